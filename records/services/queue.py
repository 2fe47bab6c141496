"""Co-signing a group note: one action countersigns every attendee's note of the group.

A single note or plan version is co-signed by ``signoff.record_cosign``; a group note
has one locked note in each attendee's chart, and a supervisor reviews the group once.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from core import clock
from core.models import User

from ..models import GroupNote, ProgressNote, RecordStatus
from ._common import audit_write, require_clinician
from .signoff import record_cosign


@transaction.atomic
def group_note_cosign(
    *, actor: User, group_note: GroupNote, now: datetime | None = None
) -> list[ProgressNote]:
    """Countersign every attendee note of a signed group note and mark the group
    co-signed, all or nothing.

    The group's status moves first with a conditional UPDATE (still signed), so of two
    supervisors clicking at once one co-signs and the other is refused before touching
    any attendee note. Each attendee note then goes through ``record_cosign`` (its own
    checks, signature and audit row); one refusal undoes the whole group."""
    now = clock.now(now)
    require_clinician(actor)
    if group_note.author_id is not None and group_note.author_id == actor.pk:
        raise ValidationError("Nobody co-signs their own note.")
    staff = actor.staff
    if staff is None or not staff.licensed:
        raise ValidationError("Only a licensed clinician can co-sign.")
    if group_note.signed_at is None:
        raise ValidationError("This group note is still a draft: it is signed before co-signing.")
    notes = list(
        ProgressNote.objects.filter(
            group_note=group_note, status=RecordStatus.SIGNED, requires_cosign=True
        )
        .select_related("patient", "site")
        .order_by("pk")
    )
    if not notes:
        raise ValidationError("This group note is not waiting for a co-signature.")
    updated = GroupNote.objects.filter(pk=group_note.pk, status=RecordStatus.SIGNED).update(
        status=RecordStatus.COSIGNED
    )
    if updated != 1:
        raise ValidationError("This group note is not waiting for a co-signature.")
    group_note.status = RecordStatus.COSIGNED
    for note in notes:
        record_cosign(actor=actor, target=note, now=now)
    audit_write(
        "records.group_note.cosigned",
        actor=actor,
        patient_id=None,
        site_id=group_note.session.site_id,
        obj=group_note,
        notes=[n.pk for n in notes],
    )
    return notes


@transaction.atomic
def note_cosign(*, actor: User, note: ProgressNote, now: datetime | None = None) -> ProgressNote:
    """Countersign one note (``record_cosign``). An attendee's note of a group may be
    co-signed from its own page: when it was the group's last one waiting, the group is
    co-signed too, so the group never waits on nothing."""
    now = clock.now(now)
    record_cosign(actor=actor, target=note, now=now)
    if note.group_note_id is None:
        return note
    waiting = ProgressNote.objects.filter(
        group_note_id=note.group_note_id, status=RecordStatus.SIGNED, requires_cosign=True
    )
    if not waiting.exists():
        group = GroupNote.objects.select_related("session").get(pk=note.group_note_id)
        closed = GroupNote.objects.filter(pk=group.pk, status=RecordStatus.SIGNED).update(
            status=RecordStatus.COSIGNED
        )
        if closed:
            audit_write(
                "records.group_note.cosigned",
                actor=actor,
                patient_id=None,
                site_id=group.session.site_id,
                obj=group,
                notes=[note.pk],
                last_attendee_note=True,
            )
    return note
