# The column takes the E.164 form once 0003_phone_e164 has rewritten the data.

from django.db import migrations

import core.phones


class Migration(migrations.Migration):
    dependencies = [
        ("recovery", "0003_phone_e164"),
    ]

    operations = [
        migrations.AlterField(
            model_name="sponsor",
            name="phone",
            field=core.phones.PhoneField(blank=True, max_length=16),
        ),
    ]
