"""Sponsors' numbers become E.164 (core.phones), read in the patient's site's country.
One that cannot be read as a number is kept in ``phone_legacy`` (shown, marked as not a
valid number, wherever the sponsor is) and listed in this report by sponsor id."""

from django.db import migrations, models

import core.phones


def forwards(apps, schema_editor):
    db = schema_editor.connection.alias
    Sponsor = apps.get_model("recovery", "Sponsor")
    rewritten, unreadable = 0, []
    rows = Sponsor.objects.using(db).exclude(phone="").select_related("patient__site")
    for sponsor in rows.order_by("pk"):
        e164 = core.phones.phone_e164_or_none(sponsor.phone, region=sponsor.patient.site.country)
        if e164 == sponsor.phone:
            continue
        if e164 is None:
            sponsor.phone_legacy, sponsor.phone = sponsor.phone[:40], ""
            unreadable.append(str(sponsor.pk))
        else:
            sponsor.phone = e164
            rewritten += 1
        sponsor.save(update_fields=["phone", "phone_legacy"])
    if rewritten or unreadable:
        print(f"\n  phone_e164: sponsors: {rewritten} numbers rewritten as E.164")
        if unreadable:
            shown = ", ".join(unreadable[:50])
            more = f" and {len(unreadable) - 50} more" if len(unreadable) > 50 else ""
            print(f"  phone_e164: unreadable, kept in phone_legacy: sponsors {shown}{more}")


def backwards(apps, schema_editor):
    # Going back drops phone_legacy: put its text back where it came from.
    Sponsor = apps.get_model("recovery", "Sponsor")
    rows = Sponsor.objects.using(schema_editor.connection.alias)
    for sponsor in rows.exclude(phone_legacy="").filter(phone="").only("pk", "phone_legacy"):
        rows.filter(pk=sponsor.pk).update(phone=sponsor.phone_legacy[:32])
    if schema_editor.connection.vendor == "postgresql":
        # Fire the deferred foreign-key checks those updates queued: PostgreSQL refuses
        # to drop the column (next operation) with trigger events pending.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0005_phone_e164_field"),
        ("recovery", "0002_meeting_pending_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="sponsor",
            name="phone_legacy",
            field=models.CharField(blank=True, editable=False, max_length=40),
        ),
        migrations.RunPython(forwards, backwards),
    ]
