"""Carry each session's old free-text ``group_note`` into the clinical record (#17).

Every session whose ``group_note`` is not empty gets a draft ``GroupNote`` holding the
text as its shared part (``migrated`` set), authored by the session's facilitator (none
when the session had none: the model allows that only on a migrated draft). A draft, not
a signed note: nobody signed that text, so the facilitator reviews it, writes each
attendee's part and signs it on the group-note screen. Each carried note prints one line
and chains one ``data.group_note_migrated`` audit row (``core.audit.append`` with the
historical ``AuditEvent``, as ``core.mending`` does). Scheduling's 0008 then drops the
column. Backwards: the text is copied back to the session (the group notes stay: the
database refuses to delete clinical records, and a second run skips a session that has
one).
"""

import sys

from django.db import migrations
from django.utils import timezone

from core import audit

NAME = "records.0003_group_notes_from_sessions"
ACTION = "data.group_note_migrated"


def carry_over(apps, rows, *, out=None):
    """``rows``: (session id, text, facilitator id, topic, site id) of the sessions with
    text; returns how many group notes were written. Separate from ``forwards`` so a test
    can run it on today's models, after the column is gone."""
    group_note = apps.get_model("records", "GroupNote")
    event = apps.get_model("core", "AuditEvent")
    done = set(group_note._default_manager.values_list("session_id", flat=True))
    now = timezone.now()
    written = 0
    for session_id, text, facilitator_id, topic, site_id in rows:
        if session_id in done or not (text or "").strip():
            continue
        note = group_note._default_manager.create(
            session_id=session_id,
            author_id=facilitator_id,
            topic=(topic or "")[:120],
            shared_text=text,
            status="draft",
            created_at=now,
            updated_at=now,
            migrated=True,
        )
        written += 1
        (out or sys.stdout).write(
            f"{NAME}: scheduling.Session #{session_id} group_note -> records.GroupNote "
            f"#{note.pk} (draft)\n"
        )
        audit.append(
            event,
            at=now,
            actor=None,
            actor_label=NAME,
            action=ACTION,
            outcome="ok",
            patient_id=None,
            site_id=site_id,
            object_type="records.GroupNote",
            object_id=str(note.pk),
            ip=None,
            detail={
                "session": session_id,
                "characters": len(text),
                "why": "the session's free-text group note, kept as a draft group note",
            },
        )
    return written


def forwards(apps, schema_editor):
    session = apps.get_model("scheduling", "Session")
    rows = (
        session._default_manager.exclude(group_note="")
        .order_by("pk")
        .values_list("pk", "group_note", "facilitator_id", "topic", "site_id")
    )
    carry_over(apps, rows)


def backwards(apps, schema_editor):
    session = apps.get_model("scheduling", "Session")
    group_note = apps.get_model("records", "GroupNote")
    for note in group_note._default_manager.exclude(shared_text="").order_by("pk"):
        session._default_manager.filter(pk=note.session_id).update(group_note=note.shared_text)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0009_staff_licence_supervisor"),
        ("scheduling", "0007_text_limits"),
        ("records", "0002_signed_content_triggers"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
