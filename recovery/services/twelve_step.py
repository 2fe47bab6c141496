"""Twelve-step work: the current sponsor and the step the patient is on."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction

from core import clock
from core.clock import site_today
from core.formats import format_day
from core.models import User
from core.phones import phone_normalize
from patients.models import Patient

from ..models import Sponsor, StepProgress
from ._common import _audit, _require_actor_for


@transaction.atomic
def sponsor_set(
    *,
    actor: User,
    patient: Patient,
    name: str,
    phone: str = "",
    since: date,
    now: datetime | None = None,
) -> Sponsor:
    now = clock.now(now)
    _require_actor_for(actor, patient)
    if since > site_today(patient.site, now):
        raise ValidationError({"since": "This date is in the future."})
    if not name.strip():
        raise ValidationError({"name": "Give the sponsor's name."})
    try:
        phone = phone_normalize(phone, region=patient.site.country)
    except ValidationError as exc:
        raise ValidationError({"phone": exc.messages}) from exc
    current = Sponsor.objects.select_for_update().filter(patient=patient, ended_on=None).first()
    if current is not None:
        if since < current.since:
            raise ValidationError(
                {"since": f"The current sponsor started on {format_day(current.since)}."}
            )
        current.ended_on = max(current.since, since - timedelta(days=1))
        current.save(update_fields=["ended_on"])
    sponsor = Sponsor.objects.create(
        patient=patient,
        name=name.strip(),
        phone=phone,
        since=since,
        recorded_by=actor,
        recorded_at=now,
    )
    _audit(
        "recovery.sponsor_set",
        actor=actor,
        patient_id=patient.pk,
        site_id=patient.site_id,
        obj=sponsor,
        replaced=current.pk if current else None,
    )
    return sponsor


@transaction.atomic
def step_set(
    *, actor: User, patient: Patient, step: int, started_on: date, now: datetime | None = None
) -> StepProgress:
    now = clock.now(now)
    _require_actor_for(actor, patient)
    if not 1 <= step <= 12:
        raise ValidationError({"step": "Steps are numbered 1 to 12."})
    if started_on > site_today(patient.site, now):
        raise ValidationError({"started_on": "This date is in the future."})
    row = StepProgress.objects.create(
        patient=patient, step=step, started_on=started_on, recorded_by=actor, recorded_at=now
    )
    _audit(
        "recovery.step_set",
        actor=actor,
        patient_id=patient.pk,
        site_id=patient.site_id,
        obj=row,
        step=step,
    )
    return row
