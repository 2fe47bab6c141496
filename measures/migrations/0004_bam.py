"""Load the Brief Addiction Monitor (measures/instruments/bam.json)."""

from django.db import migrations


def forwards(apps, schema_editor):
    from measures import instrument_data

    instrument_data.load(
        apps.get_model("measures", "Instrument"),
        apps.get_model("measures", "InstrumentItem"),
        "bam",
    )


class Migration(migrations.Migration):
    dependencies = [("measures", "0003_phq9_gad7")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
