"""Track now lives in patients (its 0003): the series and sessions point at it there and
scheduling drops it from its state. State only: the table ``scheduling_track`` stays."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('patients', '0003_track'),
        ('scheduling', '0004_holiday_status_source'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='sessionseries',
                    name='track',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='series', to='patients.track'),
                ),
                migrations.AlterField(
                    model_name='session',
                    name='track',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='sessions', to='patients.track'),
                ),
                migrations.DeleteModel(name='Track'),
            ],
            database_operations=[],
        ),
    ]
