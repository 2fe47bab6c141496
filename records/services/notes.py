"""Individual, family and MAT-visit progress notes: start a draft, edit it, sign it.

A draft is the author's alone: only they edit or sign it. Signing fixes the content
(hash, signature row, the late-entry label when it is signed after its due day on the
site's calendar) and from then on every write here refuses it (``refuse_if_signed``);
corrections are addenda (``services.signoff.addendum_add``). Group notes reach the chart
through ``services.groups``, not here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from core import clock, limits
from core.models import User
from core.validators import require_dates_in_range, require_plain_text
from patients.models import Enrollment, Patient
from scheduling.models import Session

from ..clocks import note_due_on
from ..models import (
    FORMAT_SECTIONS,
    SECTION_FIELDS,
    SECTION_LABELS,
    NoteFormat,
    NoteKind,
    NoteObjective,
    ProgressNote,
    RecordSettings,
    RecordStatus,
    ServiceType,
    SignatureMethod,
    SignerRole,
)
from ..selectors.common import objectives_for_notes
from ..signing import author_credentials, digest, note_payload, refuse_if_signed, signature_add
from ._common import audit_write, require_clinician

# The kinds written one patient at a time (a group note is written for a session).
NOTE_KINDS = (NoteKind.INDIVIDUAL, NoteKind.FAMILY, NoteKind.MAT)
# The service each kind usually documents: the new-note form's first choice.
DEFAULT_SERVICE = {
    NoteKind.INDIVIDUAL: ServiceType.INDIVIDUAL_COUNSELING,
    NoteKind.FAMILY: ServiceType.FAMILY_COUNSELING,
    NoteKind.MAT: ServiceType.MEDICATION_MANAGEMENT,
}
# Group services are documented by the group note of their session.
GROUP_SERVICES = frozenset(
    {ServiceType.GROUP_COUNSELING, ServiceType.GROUP_CBT, ServiceType.RELAPSE_PREVENTION}
)
NOTE_SERVICES = tuple(s for s in ServiceType if s not in GROUP_SERVICES)
# A service longer than this is a typing slip (a day's PHP programme is about six hours).
LONGEST_SERVICE = timedelta(hours=12)


def _episode_on(patient: Patient, day: date) -> Enrollment | None:
    """The episode of care the service belongs to: the one whose stay covers the day."""
    return (
        Enrollment.objects.filter(patient=patient, admission_date__lte=day)
        .filter(Q(discharge_date__isnull=True) | Q(discharge_date__gte=day))
        .select_related("site")
        .order_by("-admission_date", "-pk")
        .first()
    )


def _check_service(
    *,
    patient: Patient,
    service_type: str,
    service_date: date,
    starts_at: datetime,
    ends_at: datetime,
    now: datetime,
) -> Enrollment:
    """Refuse a service the note cannot document; the episode it belongs to otherwise."""
    require_dates_in_range(service_date=service_date, starts_at=starts_at, ends_at=ends_at)
    errors: dict[str, str] = {}
    if service_type not in NOTE_SERVICES:
        errors["service_type"] = "Choose the service this note documents."
    if service_date > clock.site_today(patient.site, now):
        errors["service_date"] = "A note documents a service that has happened: not a future day."
    episode = _episode_on(patient, service_date)
    if episode is None and "service_date" not in errors:
        errors["service_date"] = (
            "The patient was not in care on that day (before the admission, or after "
            "the discharge, of every episode)."
        )
    site = episode.site if episode is not None else patient.site
    if clock.site_today(site, starts_at) != service_date:
        errors["starts_at"] = "The start time must be on the day of the service."
    if ends_at <= starts_at:
        errors["ends_at"] = "The service must end after it starts."
    elif ends_at - starts_at > LONGEST_SERVICE:
        errors["ends_at"] = "A service lasts at most 12 hours: check the times."
    if starts_at > now and "starts_at" not in errors and "service_date" not in errors:
        errors["starts_at"] = "The service has not started yet."
    if errors:
        raise ValidationError(errors)
    assert episode is not None
    return episode


@transaction.atomic
def note_start(
    *,
    actor: User,
    patient: Patient,
    kind: str,
    format: str,  # noqa: A002 - the field's name in the model and the form
    service_type: str,
    service_date: date,
    starts_at: datetime,
    ends_at: datetime,
    now: datetime | None = None,
    session: Session | None = None,
) -> ProgressNote:
    """A draft note for one service, due on the site's business-day clock."""
    now = clock.now(now)
    require_clinician(actor, patient)
    if kind not in NOTE_KINDS:
        raise ValidationError({"kind": "Choose individual, family or MAT visit."})
    allowed = RecordSettings.for_site(patient.site).allowed_formats
    if format not in NoteFormat.values or format not in allowed:
        raise ValidationError(
            {
                "format": f"{patient.site.name} does not use the {format or 'chosen'} format: "
                f"choose {', '.join(allowed)}."
            }
        )
    if session is not None and session.patient_id != patient.pk:
        raise ValidationError("That session is not this patient's.")
    episode = _check_service(
        patient=patient,
        service_type=service_type,
        service_date=service_date,
        starts_at=starts_at,
        ends_at=ends_at,
        now=now,
    )
    note = ProgressNote.objects.create(
        patient=patient,
        enrollment=episode,
        site=episode.site,
        kind=kind,
        format=format,
        service_type=service_type,
        session=session,
        service_date=service_date,
        starts_at=starts_at,
        ends_at=ends_at,
        author=actor,
        author_credentials=author_credentials(actor),
        created_at=now,
        updated_at=now,
        due_on=note_due_on(episode.site, service_date, service_type),
    )
    audit_write(
        "records.note.started",
        actor=actor,
        patient_id=patient.pk,
        site_id=note.site_id,
        obj=note,
        kind=kind,
        format=format,
    )
    return note


def _locked_draft(actor: User, note: ProgressNote, doing: str) -> ProgressNote:
    """The note's row, locked, refused unless it is still the actor's own draft."""
    locked = (
        ProgressNote.objects.select_for_update().select_related("patient__site").get(pk=note.pk)
    )
    require_clinician(actor, locked.patient)
    refuse_if_signed(locked, "note")
    if locked.author_id != actor.pk:
        raise ValidationError(f"Only the author of a draft {doing} it.")
    return locked


@transaction.atomic
def note_update(
    *,
    actor: User,
    note: ProgressNote,
    sections: dict[str, str],
    objective_ids: Iterable[int] = (),
    service_type: str | None = None,
    service_date: date | None = None,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    now: datetime | None = None,
) -> ProgressNote:
    """Save the author's draft: its sections (only those of its format), the plan
    objectives it addressed (from the plan in force) and, if given, a corrected service
    (the due day follows it)."""
    now = clock.now(now)
    locked = _locked_draft(actor, note, "edits")
    shown = FORMAT_SECTIONS[locked.format]
    errors: dict[str, str] = {}
    for name, text in sections.items():
        if name not in SECTION_FIELDS:
            raise ValidationError(f"Unknown section: {name}.")
        if name not in shown and text.strip():
            errors[name] = f"A {locked.format} note has no {SECTION_LABELS[name]} section."
        elif len(text) > limits.NOTE:
            errors[name] = limits.too_long_message(limits.NOTE, len(text))
    if errors:
        raise ValidationError(errors)
    require_plain_text(**sections)
    wanted = set(objective_ids)
    allowed = set(objectives_for_notes(locked.patient).values_list("pk", flat=True))
    if wanted - allowed:
        raise ValidationError(
            {"objective_ids": "Choose objectives of this patient's plan in force."}
        )
    if service_date is not None and starts_at is not None and ends_at is not None:
        episode = _check_service(
            patient=locked.patient,
            service_type=service_type or locked.service_type,
            service_date=service_date,
            starts_at=starts_at,
            ends_at=ends_at,
            now=now,
        )
        locked.enrollment, locked.site = episode, episode.site
        locked.service_date, locked.starts_at, locked.ends_at = service_date, starts_at, ends_at
    if service_type is not None:
        if service_type not in NOTE_SERVICES:
            raise ValidationError({"service_type": "Choose the service this note documents."})
        locked.service_type = service_type
    locked.due_on = note_due_on(locked.site, locked.service_date, locked.service_type)
    for name in shown:
        if name in sections:
            setattr(locked, name, sections[name].strip())
    locked.updated_at = now
    locked.save()
    current = set(NoteObjective.objects.filter(note=locked).values_list("objective_id", flat=True))
    if current - wanted:
        NoteObjective.objects.filter(note=locked, objective_id__in=current - wanted).delete()
    NoteObjective.objects.bulk_create(
        [NoteObjective(note=locked, objective_id=pk) for pk in sorted(wanted - current)]
    )
    audit_write(
        "records.note.updated",
        actor=actor,
        patient_id=locked.patient_id,
        site_id=locked.site_id,
        obj=locked,
        objectives=sorted(wanted),
    )
    return locked


def empty_sections(note: ProgressNote) -> list[str]:
    """The sections of the note's format still empty (a note is signed complete)."""
    return [name for name in FORMAT_SECTIONS[note.format] if not getattr(note, name).strip()]


@transaction.atomic
def note_sign(*, actor: User, note: ProgressNote, now: datetime | None = None) -> ProgressNote:
    """The author signs: the content is fixed and hashed, and a note signed after its
    due day (site-local) is a late entry. An unlicensed author's note waits for a
    co-signature."""
    now = clock.now(now)
    locked = _locked_draft(actor, note, "signs")
    missing = empty_sections(locked)
    if missing:
        raise ValidationError(
            {name: f"Write the {SECTION_LABELS[name]} section before signing." for name in missing}
        )
    staff = actor.staff
    locked.content_hash = digest(note_payload(locked))
    locked.signed_at = now
    locked.status = RecordStatus.SIGNED
    locked.is_late = clock.site_today(locked.site, now) > locked.due_on
    locked.requires_cosign = staff is not None and staff.requires_cosign
    locked.author_credentials = author_credentials(actor)
    locked.updated_at = now
    locked.save()
    signature_add(
        target=locked, role=SignerRole.AUTHOR, method=SignatureMethod.SESSION, at=now, signer=actor
    )
    audit_write(
        "records.note.signed",
        actor=actor,
        patient_id=locked.patient_id,
        site_id=locked.site_id,
        obj=locked,
        late=locked.is_late,
        requires_cosign=locked.requires_cosign,
        content_hash=locked.content_hash,
    )
    return locked
