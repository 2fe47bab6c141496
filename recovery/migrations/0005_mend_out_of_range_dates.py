"""Mend dates outside 1900-2199 stored before they were bounded (#16).

- homework due: a week after it was assigned;
- a sponsor's "since" and a step's start: the day it was recorded;
- a meeting's time: when it was logged (never after it, as the constraint requires).
Each change prints a line and chains a ``data.date_mended`` audit row.
"""

from datetime import timedelta

from django.db import migrations

from core.mending import DateMend, mend_dates

NAME = "recovery.0003_mend_out_of_range_dates"

MENDS = [
    DateMend(
        "recovery.HomeworkAssignment",
        "due_date",
        lambda h: (h.assigned_at + timedelta(days=7)).date(),
        "due date out of range; due a week after it was assigned",
    ),
    DateMend(
        "recovery.Sponsor",
        "since",
        lambda s: s.recorded_at.date(),
        "out of range; set to the day it was recorded",
        site="patient.site_id",
    ),
    DateMend(
        "recovery.StepProgress",
        "started_on",
        lambda s: s.recorded_at.date(),
        "out of range; set to the day it was recorded",
        site="patient.site_id",
    ),
    DateMend(
        "recovery.Meeting",
        "held_at",
        lambda m: m.logged_at,
        "meeting time out of range; set to when it was logged",
    ),
]


def mend(apps, schema_editor):
    mend_dates(apps, MENDS, migration=NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_site_holidays_hours_clock"),
        ("recovery", "0004_phone_e164_field"),
    ]

    operations = [migrations.RunPython(mend, migrations.RunPython.noop)]
