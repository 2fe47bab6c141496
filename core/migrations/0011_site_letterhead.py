"""The name a site prints on its letters (#19). Existing sites get the neutral default
("Health Services"), not their own name, which often says what the clinic treats: the
director changes it on the letterhead page."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0010_staff_away_on_duty'),
    ]

    operations = [
        migrations.AddField(
            model_name='site',
            name='letterhead_name',
            field=models.CharField(default='Health Services', help_text='The name printed on letters. Keep it neutral: a letter may be opened by someone the patient has not told about their treatment.', max_length=200),
        ),
        migrations.AddField(
            model_name='site',
            name='letterhead_names_treatment',
            field=models.BooleanField(default=False, help_text='Tick to print a letterhead name that says what the clinic treats.', verbose_name='letterhead may name our services'),
        ),
    ]
