"""Phone numbers become E.164 (core.phones), read in each site's country.

A site's or a staff member's number that cannot be read as one (``call me maybe``, an
extension) is cleared, and named in the report this prints (site code, username): those
are not clinical records, and a cleared staff number only stops staff texts, which the
sender then skips with a recorded reason. Patients' numbers are kept in a legacy field
instead (patients 0004_phone_e164).
"""

from django.db import migrations

import core.phones


def forwards(apps, schema_editor):
    db = schema_editor.connection.alias
    Site = apps.get_model("core", "Site")
    StaffProfile = apps.get_model("core", "StaffProfile")
    rewritten, cleared = 0, []
    for site in Site.objects.using(db).exclude(phone=""):
        e164 = core.phones.phone_e164_or_none(site.phone, region=site.country)
        if e164 != site.phone:
            rewritten += e164 is not None
            if e164 is None:
                cleared.append(f"site {site.code}")
            site.phone = e164 or ""
            site.save(update_fields=["phone"])
    for staff in (
        StaffProfile.objects.using(db).exclude(phone="").select_related("user")
    ):
        first = staff.sites.order_by("pk").first() or Site.objects.using(db).filter(
            organization_id=staff.organization_id
        ).order_by("pk").first()
        region = first.country if first is not None else core.phones.DEFAULT_REGION
        e164 = core.phones.phone_e164_or_none(staff.phone, region=region)
        if e164 != staff.phone:
            rewritten += e164 is not None
            if e164 is None:
                cleared.append(f"staff {staff.user.username}")
            staff.phone = e164 or ""
            staff.save(update_fields=["phone"])
    if rewritten or cleared:
        print(f"\n  phone_e164: sites and staff: {rewritten} numbers rewritten as E.164")
        if cleared:
            print(f"  phone_e164: unreadable numbers cleared (re-enter them): {', '.join(cleared)}")


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0005_beat_heartbeat"),
    ]

    operations = [
        migrations.AddField(
            model_name="organization",
            name="sms_number",
            field=core.phones.PhoneField(
                blank=True,
                help_text="The number reminder texts come from (SMS_FROM), e.g. +15185550100.",
                max_length=16,
                verbose_name="text message number",
            ),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
