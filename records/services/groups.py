"""Group notes: the facilitator writes the shared part of a group session's note once and
a short individualized part per present attendee (a draft, saved as often as needed);
signing it writes one locked ``ProgressNote`` into each present attendee's chart, with
that attendee's own attendance status and minutes. Absent patients get no note.

After signing nothing here changes the group note or its attendee notes again: a
correction is an addendum on the affected attendee's note (``services.signoff``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from core import clock, limits
from core.models import User
from core.validators import require_plain_text
from patients.models import Enrollment
from scheduling.models import ATTENDED_STATUSES, Attendance, Session, SessionKind, SessionStatus
from scheduling.selectors.access import sessions_visible_to
from scheduling.selectors.rosters import rosters_for_sessions

from ..clocks import note_due_on
from ..models import (
    GroupNote,
    GroupNoteEntry,
    NoteKind,
    ProgressNote,
    RecordSettings,
    RecordStatus,
    ServiceType,
    SignatureMethod,
    SignerRole,
)
from ..signing import (
    author_credentials,
    digest,
    group_note_payload,
    note_payload,
    refuse_if_signed,
    signature_add,
)
from ._common import audit_write, require_clinician

# The service types a group session's note may bill as.
GROUP_SERVICE_TYPES = (
    ServiceType.GROUP_COUNSELING,
    ServiceType.GROUP_CBT,
    ServiceType.RELAPSE_PREVENTION,
    ServiceType.PSYCHOEDUCATION,
)
_DEFAULT_SERVICE: dict[str, str] = {
    SessionKind.CBT: ServiceType.GROUP_CBT,
    SessionKind.DBT: ServiceType.GROUP_CBT,
    SessionKind.RELAPSE_PREVENTION: ServiceType.RELAPSE_PREVENTION,
    SessionKind.PSYCHOEDUCATION: ServiceType.PSYCHOEDUCATION,
}
TOPIC_MAX = 120


def default_service_type(session: Session) -> str:
    return _DEFAULT_SERVICE.get(session.kind, str(ServiceType.GROUP_COUNSELING))


def _require_writer(actor: User, session: Session) -> None:
    """A clinician who runs the session or works at its site."""
    require_clinician(actor)
    if session.facilitator_id == actor.pk:
        return
    if not sessions_visible_to(actor).filter(pk=session.pk).exists():
        raise ValidationError("No such session.")


def _require_documentable(session: Session, now: datetime) -> None:
    if session.track_id is None:
        raise ValidationError(
            "This is an individual session: write an individual note in the chart instead."
        )
    if session.status != SessionStatus.SCHEDULED:
        raise ValidationError("This session was cancelled: there is nothing to document.")
    if session.starts_at > now:
        raise ValidationError("This session has not started yet: write its note afterwards.")


def _locked(session: Session) -> GroupNote | None:
    return GroupNote.objects.select_for_update().filter(session=session).first()


@transaction.atomic
def group_note_save(
    *,
    actor: User,
    session: Session,
    topic: str,
    service_type: str,
    shared_text: str,
    entries: Mapping[int, str],
    now: datetime | None = None,
) -> GroupNote:
    """Save the draft: the shared part and each present attendee's part (``entries``:
    patient id -> text; an empty text removes that attendee's part)."""
    now = clock.now(now)
    _require_writer(actor, session)
    _require_documentable(session, now)
    topic, shared_text = (topic or "").strip(), (shared_text or "").strip()
    texts = {int(pk): (text or "").strip() for pk, text in entries.items()}
    errors: dict[str, str] = {}
    if len(topic) > TOPIC_MAX:
        errors["topic"] = f"Keep the topic under {TOPIC_MAX} characters."
    if service_type not in GROUP_SERVICE_TYPES:
        errors["service_type"] = "Choose a group service type."
    if len(shared_text) > limits.NOTE:
        errors["shared_text"] = limits.too_long_message(limits.NOTE, len(shared_text))
    if errors:
        raise ValidationError(errors)
    require_plain_text(topic=topic, shared_text=shared_text)
    attended = dict(Attendance.objects.filter(session=session).values_list("patient_id", "status"))
    for patient_id, text in texts.items():
        if not text:
            continue
        if patient_id not in attended:
            raise ValidationError("An individual part can only be written for an attendee.")
        if attended[patient_id] not in ATTENDED_STATUSES:
            raise ValidationError("An absent patient gets no note: leave their part empty.")
        if len(text) > limits.NOTE:
            raise ValidationError(limits.too_long_message(limits.NOTE, len(text)))
        require_plain_text(entry=text)

    group = _locked(session)
    created = group is None
    if group is None:
        group = GroupNote(session=session, author=actor, created_at=now)
    refuse_if_signed(group, "group note")
    if group.author_id is None:  # a migrated draft: whoever first saves it writes it
        group.author = actor
    group.topic, group.service_type, group.shared_text = topic, service_type, shared_text
    group.updated_at = now
    group.save()
    kept = {pk: text for pk, text in texts.items() if text}
    existing = {e.patient_id: e for e in GroupNoteEntry.objects.filter(group_note=group)}
    # Parts of attendees no longer present (or emptied) go: a draft's part is not a record.
    stale = [e.pk for pk, e in existing.items() if pk not in kept]
    if stale:
        GroupNoteEntry.objects.filter(pk__in=stale).delete()
    for patient_id, text in kept.items():
        entry = existing.get(patient_id)
        if entry is None:
            GroupNoteEntry.objects.create(group_note=group, patient_id=patient_id, text=text)
        elif entry.text != text:
            entry.text = text
            entry.save(update_fields=["text"])
    audit_write(
        "records.group_note.saved",
        actor=actor,
        patient_id=None,
        site_id=session.site_id,
        obj=group,
        session=session.pk,
        created=created,
        parts=len(kept),
    )
    return group


def _enrollments_on(session: Session, patient_ids: list[int]) -> dict[int, int]:
    """Each attendee's episode at the session's site on its date (one query)."""
    found: dict[int, int] = {}
    rows = (
        Enrollment.objects.filter(
            patient_id__in=patient_ids,
            site_id=session.site_id,
            admission_date__lte=session.local_date,
        )
        .order_by("patient_id", "-admission_date", "-pk")
        .values_list("patient_id", "pk")
    )
    for patient_id, pk in rows:
        found.setdefault(patient_id, pk)
    return found


@transaction.atomic
def group_note_sign(*, actor: User, session: Session, now: datetime | None = None) -> GroupNote:
    """The author signs: one locked note per present attendee, one signature on each,
    one audit row per note and one for the group, all in this transaction."""
    now = clock.now(now)
    _require_writer(actor, session)
    _require_documentable(session, now)
    group = _locked(session)
    if group is None:
        raise ValidationError("Write the group note before signing it.")
    if group.signed_at is not None:
        raise ValidationError("This group note is already signed; add an addendum instead.")
    if group.author_id is not None and group.author_id != actor.pk:
        raise ValidationError(f"Only its author, {group.author}, can sign this group note.")
    if not group.shared_text.strip():
        raise ValidationError("Write what the group did before signing.")
    taken = list(Attendance.objects.filter(session=session).select_related("patient"))
    if not taken:
        raise ValidationError(
            "Take attendance first: signing writes a note into each present attendee's chart."
        )
    roster = rosters_for_sessions([session], attendance=taken)[session.pk]
    marked = {a.patient_id for a in taken}
    unmarked = [p for p in roster if p.pk not in marked]
    if unmarked:
        raise ValidationError(
            f"Mark attendance for everyone on the roster first ({len(unmarked)} not marked)."
        )
    present = [a for a in taken if a.status in ATTENDED_STATUSES]
    if not present:
        raise ValidationError("Nobody attended this session: there is no note to sign.")

    group.author = actor
    content_hash = digest(group_note_payload(group))
    # Conditional: of two clicks at once, one signs and the other is refused.
    updated = GroupNote.objects.filter(pk=group.pk, signed_at__isnull=True).update(
        author=actor,
        status=RecordStatus.SIGNED,
        signed_at=now,
        content_hash=content_hash,
        updated_at=now,
    )
    if updated != 1:
        raise ValidationError("This group note is already signed; add an addendum instead.")
    group.refresh_from_db()

    site = session.site
    rules = RecordSettings.for_site(site)
    due_on = note_due_on(site, session.local_date, group.service_type, rules)
    is_late = clock.site_today(site, now) > due_on
    staff = actor.staff
    requires_cosign = staff.requires_cosign if staff is not None else True
    credentials = author_credentials(actor)
    parts = dict(GroupNoteEntry.objects.filter(group_note=group).values_list("patient_id", "text"))
    episodes = _enrollments_on(session, [a.patient_id for a in present])
    for attendance in sorted(present, key=lambda a: a.patient_id):
        # Written as a draft, then signed over its own hash (which names its id).
        note = ProgressNote.objects.create(
            patient_id=attendance.patient_id,
            enrollment_id=episodes.get(attendance.patient_id),
            site=site,
            kind=NoteKind.GROUP,
            service_type=group.service_type,
            session=session,
            group_note=group,
            attendance=attendance,
            attendance_status=attendance.status,
            minutes=attendance.minutes_credited,
            service_date=session.local_date,
            starts_at=session.starts_at,
            ends_at=session.ends_at,
            topic=group.topic,
            shared_text=group.shared_text,
            response=parts.get(attendance.patient_id, ""),
            author=actor,
            author_credentials=credentials,
            created_at=now,
            updated_at=now,
            due_on=due_on,
            is_late=is_late,
            requires_cosign=requires_cosign,
        )
        note.content_hash = digest(note_payload(note))
        note.status, note.signed_at = RecordStatus.SIGNED, now
        note.save(update_fields=["content_hash", "status", "signed_at"])
        signature_add(
            target=note,
            role=SignerRole.AUTHOR,
            method=SignatureMethod.SESSION,
            at=now,
            signer=actor,
        )
        audit_write(
            "records.note.signed",
            actor=actor,
            patient_id=attendance.patient_id,
            site_id=site.pk,
            obj=note,
            kind=NoteKind.GROUP,
            group_note=group.pk,
            late=is_late,
        )
    audit_write(
        "records.group_note.signed",
        actor=actor,
        patient_id=None,
        site_id=site.pk,
        obj=group,
        session=session.pk,
        notes=len(present),
        late=is_late,
    )
    return group
