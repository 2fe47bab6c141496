"""Load the PHQ-9 and GAD-7 (measures/instruments/*.json)."""

from django.db import migrations

CODES = ["phq9", "gad7"]


def forwards(apps, schema_editor):
    from measures import instrument_data

    for code in CODES:
        instrument_data.load(
            apps.get_model("measures", "Instrument"),
            apps.get_model("measures", "InstrumentItem"),
            code,
        )


class Migration(migrations.Migration):
    dependencies = [("measures", "0002_completed_locked")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
