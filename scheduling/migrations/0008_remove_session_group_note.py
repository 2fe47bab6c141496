"""The session's free-text group note is retired (#17): records 0003 carried each text
into a draft group note of the clinical record first."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0007_text_limits"),
        ("records", "0003_group_notes_from_sessions"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="session",
            name="scheduling_session_group_note_max_len",
        ),
        migrations.RemoveField(
            model_name="session",
            name="group_note",
        ),
    ]
