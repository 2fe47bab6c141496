"""Give every existing site CLINICAL.md's default schedules (new sites get them from a
post_save receiver): BAM every 7 days in IOP and PHP and every 30 in OP; PHQ-9 and GAD-7
at admission, every 30 days and at discharge at every level. Frozen here, so a later
change of the defaults in code does not rewrite history."""

from django.db import migrations

DEFAULTS = [
    ("bam", "2.5", 7, False, False),
    ("bam", "2.1", 7, False, False),
    ("bam", "1.0", 30, False, False),
    *[(code, level, 30, True, True) for code in ("phq9", "gad7") for level in ("2.5", "2.1", "1.0")],
]


def forwards(apps, schema_editor):
    Site = apps.get_model("core", "Site")
    MeasureSchedule = apps.get_model("measures", "MeasureSchedule")
    MeasureSchedule.objects.bulk_create(
        [
            MeasureSchedule(
                site=site,
                instrument_code=code,
                level=level,
                every_days=every,
                at_admission=admission,
                at_discharge=discharge,
            )
            for site in Site.objects.all()
            for code, level, every, admission, discharge in DEFAULTS
        ],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [("measures", "0004_bam")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
