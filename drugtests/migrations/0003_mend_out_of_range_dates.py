"""Mend collection times outside 1900-2199 stored before they were bounded (#16): such a
time (year 1, say) made the test's page answer 500 to everyone. The safe value is the
moment the collection was recorded (the selection's status change, stamped by the
server), else the test's deadline. Each change prints a line and chains a
``data.date_mended`` audit row."""

from django.db import migrations

from core.mending import DateMend, mend_dates

NAME = "drugtests.0003_mend_out_of_range_dates"


def mend(apps, schema_editor):
    mend_dates(
        apps,
        [
            DateMend(
                "drugtests.Specimen",
                "collected_at",
                lambda s: s.selection.status_changed_at or s.selection.deadline,
                "collection time out of range; set to when it was recorded",
                site="selection.site_id",
            )
        ],
        migration=NAME,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_site_holidays_hours_clock"),
        ("drugtests", "0002_immutable_draw_triggers"),
    ]

    operations = [migrations.RunPython(mend, migrations.RunPython.noop)]
