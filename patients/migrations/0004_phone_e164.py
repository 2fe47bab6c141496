"""Patients' and emergency contacts' numbers become E.164 (core.phones), read in the
country of the patient's site.

A number that cannot be read as one (``call me maybe``, an extension) is not thrown
away: a chart's contact details are clinical, and the text may still tell staff how to
reach someone. It moves to ``phone_legacy`` / ``emergency_contact_phone_legacy`` and the
number is left blank, so nothing texts it (the sender records "no text message
address"). Staff find those patients by the flag on the chart, in the counselor's alert
queue (patients.alerts.phone_unreadable) and in this migration's report (patient ids);
the demographics form puts the old text back in the box until it is corrected or cleared.
"""

from django.db import migrations, models

import core.phones

FIELDS = ("phone", "emergency_contact_phone")
# The report names this many; the rest are in the alert queue and on their charts.
REPORT_AT_MOST = 50


def forwards(apps, schema_editor):
    db = schema_editor.connection.alias
    Patient = apps.get_model("patients", "Patient")
    rows = (
        Patient.objects.using(db)
        .exclude(phone="", emergency_contact_phone="")
        .select_related("site")
        .order_by("pk")
    )
    batch, rewritten, unreadable = [], 0, []
    update_fields = [*FIELDS, *(f"{f}_legacy" for f in FIELDS)]
    for patient in rows.iterator(chunk_size=1000):
        touched = False
        for name in FIELDS:
            value = getattr(patient, name)
            if not value:
                continue
            e164 = core.phones.phone_e164_or_none(value, region=patient.site.country)
            if e164 == value:
                continue
            touched = True
            if e164 is None:
                setattr(patient, f"{name}_legacy", value[:40])
                setattr(patient, name, "")
                unreadable.append(f"{patient.pk} ({name})")
            else:
                setattr(patient, name, e164)
                rewritten += 1
        if touched:
            batch.append(patient)
        if len(batch) >= 1000:
            Patient.objects.using(db).bulk_update(batch, update_fields)
            batch = []
    if batch:
        Patient.objects.using(db).bulk_update(batch, update_fields)
    if rewritten or unreadable:
        print(f"\n  phone_e164: patients: {rewritten} numbers rewritten as E.164")
        if unreadable:
            shown = ", ".join(unreadable[:REPORT_AT_MOST])
            more = len(unreadable) - REPORT_AT_MOST
            print(
                f"  phone_e164: {len(unreadable)} unreadable, kept in *_legacy and flagged "
                f"on the chart and in the alert queue; patient ids: {shown}"
                + (f" and {more} more" if more > 0 else "")
            )


def backwards(apps, schema_editor):
    # Going back drops the legacy columns: put their text back where it came from.
    Patient = apps.get_model("patients", "Patient")
    rows = Patient.objects.using(schema_editor.connection.alias)
    for name in FIELDS:
        legacy = f"{name}_legacy"
        for patient in rows.exclude(**{legacy: ""}).filter(**{name: ""}).only("pk", legacy):
            rows.filter(pk=patient.pk).update(**{name: getattr(patient, legacy)[:32]})
    if schema_editor.connection.vendor == "postgresql":
        # Fire the deferred foreign-key checks those updates queued: PostgreSQL refuses
        # to drop the column (next operation) with trigger events pending.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0007_phone_e164_field"),
        ("patients", "0003_track"),
    ]

    operations = [
        migrations.AddField(
            model_name="patient",
            name="emergency_contact_phone_legacy",
            field=models.CharField(blank=True, editable=False, max_length=40),
        ),
        migrations.AddField(
            model_name="patient",
            name="phone_legacy",
            field=models.CharField(blank=True, editable=False, max_length=40),
        ),
        migrations.RunPython(forwards, backwards),
    ]
