
import django.db.models.deletion
import django.db.models.functions.text
import django.db.models.lookups
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('core', '0011_site_letterhead'),
        ('patients', '0008_consent_sections'),
        ('privacy', '0003_disclosure_to_patient'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='LetterBatch',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('recipient', models.CharField(max_length=200)),
                ('sections', models.JSONField(default=list)),
                ('period_start', models.DateField()),
                ('period_end', models.DateField()),
                ('skipped', models.JSONField(blank=True, default=list)),
                ('created_at', models.DateTimeField()),
                ('counselor', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name_plural': 'letter batches',
                'ordering': ['-created_at', '-pk'],
            },
        ),
        migrations.CreateModel(
            name='Letter',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('recipient', models.CharField(max_length=200)),
                ('sections', models.JSONField(default=list)),
                ('period_start', models.DateField()),
                ('period_end', models.DateField()),
                ('pdf', models.BinaryField()),
                ('sha256', models.CharField(max_length=64)),
                ('size', models.PositiveIntegerField()),
                ('created_at', models.DateTimeField()),
                ('consent', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='letters', to='patients.consent')),
                ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('disclosure', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='letter', to='privacy.disclosure')),
                ('patient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='letters', to='patients.patient')),
                ('site', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.site')),
                ('batch', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='letters', to='letters.letterbatch')),
            ],
            options={
                'ordering': ['-created_at', '-pk'],
            },
        ),
        migrations.AddConstraint(
            model_name='letterbatch',
            constraint=models.CheckConstraint(condition=models.Q(('period_end__gte', models.F('period_start'))), name='letter_batch_period_order'),
        ),
        migrations.AddIndex(
            model_name='letter',
            index=models.Index(fields=['patient', '-created_at'], name='letter_patient_recent'),
        ),
        migrations.AddConstraint(
            model_name='letter',
            constraint=models.CheckConstraint(condition=models.Q(('period_end__gte', models.F('period_start'))), name='letter_period_order'),
        ),
        migrations.AddConstraint(
            model_name='letter',
            constraint=models.CheckConstraint(condition=django.db.models.lookups.Exact(django.db.models.functions.text.Length('sha256'), 64), name='letter_sha256_length'),
        ),
        migrations.AddConstraint(
            model_name='letter',
            constraint=models.CheckConstraint(condition=models.Q(('size__gt', 0)), name='letter_not_empty'),
        ),
        migrations.AddConstraint(
            model_name='letter',
            constraint=models.CheckConstraint(condition=models.Q(('size', django.db.models.functions.text.Length('pdf'))), name='letter_size_is_the_pdfs'),
        ),
    ]
