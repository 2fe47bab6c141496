"""Mend dates outside 1900-2199 stored before forms and services bounded them (#16).

- a series' end: cleared (a series without an end runs on, which is what year 9999 meant);
- a session on such a date (booked or moved there by a slip): taken off the schedule
  ("removed": shown nowhere, never counted as an absence), its dates kept as evidence.
Each change prints a line and chains a ``data.date_mended`` audit row.
"""

from django.db import migrations

from core.mending import DateMend, mend_dates, out_of_range, report

NAME = "scheduling.0006_mend_out_of_range_dates"
REASON = "Date out of range (1900-2199); taken off the schedule"


def mend(apps, schema_editor):
    mend_dates(
        apps,
        [DateMend("scheduling.SessionSeries", "ends_on", lambda s: None, "cleared", patient=None)],
        migration=NAME,
    )
    session_model = apps.get_model("scheduling", "Session")
    field = session_model._meta.get_field("local_date")
    sessions = session_model._default_manager.filter(out_of_range(field, "local_date")).exclude(
        status="removed"
    )
    for session in sessions.order_by("pk"):
        old = session.status
        session.status, session.status_reason = "removed", REASON
        session.save(update_fields=["status", "status_reason"])
        report(
            apps,
            migration=NAME,
            obj=session,
            model="scheduling.Session",
            change={"field": "status", "old": old, "new": "removed"},
            why=f"local_date {session.local_date} out of range",
            patient_id=session.patient_id,
            site_id=session.site_id,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_site_holidays_hours_clock"),
        ("scheduling", "0005_track_moved_to_patients"),
    ]

    operations = [migrations.RunPython(mend, migrations.RunPython.noop)]
