# The columns take the E.164 form once 0006_phone_e164 has rewritten the data (a
# separate migration: PostgreSQL refuses to alter a table with pending row updates).

from django.db import migrations, models

import core.phones


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0006_phone_e164"),
    ]

    operations = [
        migrations.AlterField(
            model_name="site",
            name="phone",
            field=core.phones.PhoneField(blank=True, max_length=16),
        ),
        migrations.AlterField(
            model_name="staffprofile",
            name="phone",
            field=core.phones.PhoneField(blank=True, max_length=16),
        ),
        migrations.AddConstraint(
            model_name="organization",
            constraint=models.UniqueConstraint(
                condition=models.Q(("sms_number", ""), _negated=True),
                fields=("sms_number",),
                name="org_sms_number_unique",
            ),
        ),
    ]
