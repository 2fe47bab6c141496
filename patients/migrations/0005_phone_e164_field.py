# The columns take the E.164 form once 0004_phone_e164 has rewritten the data, and the
# SMS webhook's lookup (organisation, number) gets its index.

from django.db import migrations, models

import core.phones


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0004_phone_e164"),
    ]

    operations = [
        migrations.AlterField(
            model_name="patient",
            name="emergency_contact_phone",
            field=core.phones.PhoneField(blank=True, max_length=16),
        ),
        migrations.AlterField(
            model_name="patient",
            name="phone",
            field=core.phones.PhoneField(blank=True, max_length=16),
        ),
        migrations.AddIndex(
            model_name="patient",
            index=models.Index(fields=["organization", "phone"], name="patient_org_phone"),
        ),
    ]
