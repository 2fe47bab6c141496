"""The code table's standard rows (labs.standard_codes)."""

from django.db import migrations

from labs import standard_codes


def seed(apps, schema_editor):
    standard_codes.load(apps.get_model("labs", "AnalyteCode"))


class Migration(migrations.Migration):
    dependencies = [("labs", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
