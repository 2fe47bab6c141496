"""Track moves from scheduling to patients (the programme structure enrollments and
track memberships point at), so patients no longer imports scheduling.

State only: the table keeps its name (``scheduling_track``) and its rows; the foreign
keys already point at it. Scheduling's 0005 removes the model from its own state. The
content type is renamed rather than recreated, so the permissions given to the role
groups and the admin log keep pointing at the same rows.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def content_type_move(apps, schema_editor, old: str = "scheduling", new: str = "patients"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    if ContentType.objects.using(db).filter(app_label=new, model="track").exists():
        return
    ContentType.objects.using(db).filter(app_label=old, model="track").update(app_label=new)


def content_type_move_back(apps, schema_editor):
    content_type_move(apps, schema_editor, old="patients", new="scheduling")


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('core', '0004_site_holidays_hours_clock'),
        ('patients', '0002_scheduled_change'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Track',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=80)),
                        ('kind', models.CharField(choices=[('day', 'Day track'), ('evening', 'Evening track')], max_length=10)),
                        ('level', models.CharField(choices=[('1.0', 'OP 1.0 · Outpatient'), ('2.1', 'IOP 2.1 · Intensive outpatient'), ('2.5', 'PHP 2.5 · Partial hospitalization')], max_length=3)),
                        ('room', models.CharField(blank=True, max_length=80)),
                        ('video_link', models.URLField(blank=True)),
                        ('capacity', models.PositiveSmallIntegerField(default=12)),
                        ('is_active', models.BooleanField(default=True)),
                        ('default_facilitator', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('site', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='tracks', to='core.site')),
                    ],
                    options={
                        'db_table': 'scheduling_track',
                        'ordering': ['site', 'kind', 'name'],
                        'constraints': [
                            models.UniqueConstraint(fields=('site', 'name'), name='track_name_unique_per_site'),
                            models.CheckConstraint(condition=models.Q(('capacity__gte', 1)), name='track_capacity_positive'),
                        ],
                    },
                ),
                migrations.AlterField(
                    model_name='enrollment',
                    name='track',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='enrollments', to='patients.track'),
                ),
                migrations.AlterField(
                    model_name='trackmembership',
                    name='track',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='memberships', to='patients.track'),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_type_move, content_type_move_back),
    ]
