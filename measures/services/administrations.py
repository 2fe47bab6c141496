"""Writes for one sitting of an instrument: make it due, start it, save answers one at a
time (so the portal resumes where the patient left off), complete and score it."""

from __future__ import annotations

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from core import audit, clock
from core.models import User
from patients.models import Enrollment, EnrollmentStatus, Patient

from .. import scoring
from ..models import Administration, Answer, Instrument, InstrumentItem, Language, SafetyEvent
from ..signals import administration_completed, safety_event_raised


def instrument_current(code: str) -> Instrument:
    """The newest active version of an instrument."""
    instrument = Instrument.objects.filter(code=code, is_active=True).order_by("-pk").first()
    if instrument is None:
        raise ValidationError({"instrument": f"No active instrument {code!r}."})
    return instrument


def _open_enrollment(patient: Patient) -> Enrollment | None:
    return (
        Enrollment.objects.filter(patient=patient)
        .exclude(status=EnrollmentStatus.DISCHARGED)
        .order_by("-admission_date")
        .first()
    )


@transaction.atomic
def administration_create(
    *,
    actor: User | None,
    patient: Patient,
    instrument: Instrument,
    reason: str,
    due_on: date,
    enrollment: Enrollment | None = None,
    now: datetime | None = None,
) -> Administration | None:
    """Make a sitting due; returns None when one is already open or made for that day
    (the schedule sweep may run twice, on two workers)."""
    now = clock.now(now)
    if reason not in Administration.Reason.values:
        raise ValidationError({"reason": "Unknown reason."})
    if Administration.objects.filter(
        patient=patient,
        instrument__code=instrument.code,
        status__in=[Administration.Status.DUE, Administration.Status.IN_PROGRESS],
    ).exists():
        return None
    try:
        with transaction.atomic():
            administration = Administration.objects.create(
                patient=patient,
                enrollment=enrollment if enrollment is not None else _open_enrollment(patient),
                instrument=instrument,
                reason=reason,
                due_on=due_on,
                created_at=now,
                # The sitting opens in the patient's language (they may still switch).
                language=(
                    patient.preferred_language
                    if patient.preferred_language in Language.values
                    else Language.ENGLISH
                ),
            )
    except IntegrityError:  # the same day's row, or an open one, written concurrently
        return None
    audit.record(
        action="measures.administration_due",
        actor=actor,
        patient_id=patient.pk,
        site_id=patient.site_id,
        obj=administration,
        detail={"instrument": instrument.code, "reason": reason, "due_on": due_on.isoformat()},
        at=now,
    )
    return administration


def _lock_open(administration: Administration) -> Administration:
    locked = (
        Administration.objects.select_for_update(of=("self",))
        .select_related("instrument", "patient")
        .get(pk=administration.pk)
    )
    if not locked.is_open:
        raise ValidationError("This check-in is already complete; it can no longer change.")
    return locked


@transaction.atomic
def administration_start(
    *,
    actor: User,
    administration: Administration,
    mode: str,
    language: str = Language.ENGLISH,
    now: datetime | None = None,
) -> Administration:
    now = clock.now(now)
    if mode not in Administration.Mode.values:
        raise ValidationError({"mode": "Unknown mode."})
    if language not in Language.values:
        raise ValidationError({"language": "Unknown language."})
    locked = _lock_open(administration)
    if locked.status == Administration.Status.DUE:
        locked.status = Administration.Status.IN_PROGRESS
        locked.started_at = now
    locked.mode = mode
    locked.language = language
    locked.entered_by = actor
    locked.save(update_fields=["status", "started_at", "mode", "language", "entered_by"])
    return locked


@transaction.atomic
def answer_save(
    *,
    actor: User,
    administration: Administration,
    item: InstrumentItem,
    value: int,
    now: datetime | None = None,
) -> Answer:
    """Save (or change) one answer of an open sitting."""
    now = clock.now(now)
    locked = _lock_open(administration)
    if item.instrument_id != locked.instrument_id:
        raise ValidationError({"item": "That question belongs to another questionnaire."})
    if item.option(value) is None:
        raise ValidationError({"value": "Choose one of the answers."})
    if locked.status == Administration.Status.DUE:
        raise ValidationError("Start the check-in before answering.")
    answer, _ = Answer.objects.update_or_create(
        administration=locked, item=item, defaults={"value": value, "answered_at": now}
    )
    return answer


@transaction.atomic
def administration_complete(
    *, actor: User, administration: Administration, now: datetime | None = None
) -> Administration:
    """Score and lock a sitting; raises a safety event for a safety item above 0."""
    now = clock.now(now)
    locked = _lock_open(administration)
    if locked.status == Administration.Status.DUE:
        raise ValidationError("Start the check-in before completing it.")
    items = list(locked.instrument.items.all())
    answers = {a.item_id: a.value for a in locked.answers.all()}
    missing = [i.link_id for i in items if i.required and i.pk not in answers]
    if missing:
        raise ValidationError(
            {"answers": f"Answer every question first (missing: {', '.join(missing)})."}
        )
    by_number = {i.number: answers[i.pk] for i in items if i.pk in answers}
    result = scoring.score(locked.instrument.scoring, by_number)
    locked.status = Administration.Status.COMPLETED
    locked.completed_at = now
    locked.total = result.total
    locked.subscales = result.subscales
    locked.band = result.band
    locked.flags = result.flags
    locked.save(update_fields=["status", "completed_at", "total", "subscales", "band", "flags"])
    audit.record(
        action="measures.administration_completed",
        actor=actor,
        patient_id=locked.patient_id,
        site_id=locked.patient.site_id,
        obj=locked,
        detail={"instrument": locked.instrument.code, "mode": locked.mode},
        at=now,
    )
    if result.safety:
        item_number, value = max(result.safety, key=lambda pair: pair[1])
        event = SafetyEvent.objects.create(
            administration=locked,
            patient=locked.patient,
            item_number=item_number,
            value=value,
            raised_at=now,
            owner=locked.patient.primary_counselor,
        )
        audit.record(
            action="measures.safety_event_raised",
            actor=actor,
            patient_id=locked.patient_id,
            site_id=locked.patient.site_id,
            obj=event,
            detail={"item": item_number, "value": value},
            at=now,
        )
        safety_event_raised.send(sender=SafetyEvent, safety_event=event)
    administration_completed.send(sender=Administration, administration=locked)
    return locked
