"""Effective dates: a change dated ahead at the site is held as a ``ScheduledChange``
(applied on its date by ``scheduled_changes``) instead of being made now."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from core import audit
from core.clock import site_today
from core.formats import format_day
from core.models import Site, User

from ..models import Enrollment, Patient, ProgramLevel, ScheduledChange, Track

Change = ScheduledChange.Kind
ChangeStatus = ScheduledChange.Status


def _one_year_after(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 Feb
        return day.replace(year=day.year + 1, day=28)


def _deferred(site: Site, on: date, field: str, now: datetime) -> bool:
    """Whether a change dated ``on`` is still ahead at the site (so it is held, not
    applied). Today means the site's wall calendar: a change dated D at a Los Angeles
    site waits until it is D in Los Angeles, whatever the date is in UTC."""
    today = site_today(site, now)
    limit = _one_year_after(today)
    if on > limit:
        raise ValidationError(
            {field: f"The date is more than a year ahead (the latest is {format_day(limit)})."}
        )
    return on > today


def _stored(value: object) -> object:
    """A service argument as the JSON payload of a scheduled change keeps it."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, date):
        return value.isoformat()
    return value


def _schedule_admission(
    *,
    actor: User | None,
    patient: Patient,
    admission_date: date,
    now: datetime,
    label: str,
    level: str,
    track: Track | None,
    **args: Any,
) -> ScheduledChange:
    """An admission (or re-admission) dated ahead: no episode exists until its date."""
    return _schedule(
        actor=actor,
        kind=Change.ADMISSION,
        patient=patient,
        enrollment=None,
        effective_date=admission_date,
        now=now,
        summary=f"{label} to {ProgramLevel(level).label}"
        + (f", {track.name}" if track is not None else ""),
        level=level,
        track=track,
        **args,
    )


def _schedule(
    *,
    actor: User | None,
    kind: str,
    patient: Patient,
    enrollment: Enrollment | None,
    effective_date: date,
    now: datetime,
    summary: str,
    **arguments: Any,
) -> ScheduledChange:
    change = ScheduledChange.objects.create(
        patient=patient,
        enrollment=enrollment,
        kind=kind,
        effective_date=effective_date,
        payload={name: _stored(value) for name, value in arguments.items()},
        summary=summary[:200],
        created_by=actor,
        created_at=now,
    )
    _audit_change("scheduled_change.created", change, actor)
    return change


def _audit_change(action: str, change: ScheduledChange, actor: User | None, **detail: Any) -> None:
    audit.record(
        action=action,
        actor=actor,
        patient_id=change.patient_id,
        site_id=change.patient.site_id,
        obj=change,
        detail={"kind": change.kind, "effective_date": change.effective_date.isoformat(), **detail},
    )


def _require_no_pending_admission(patient: Patient) -> None:
    upcoming = (
        ScheduledChange.objects.filter(
            patient=patient, kind=Change.ADMISSION, status=ChangeStatus.PENDING
        )
        .values_list("effective_date", flat=True)
        .first()
    )
    if upcoming is not None:
        raise ValidationError(
            {
                "admission_date": f"An admission is already scheduled for {format_day(upcoming)}; "
                "cancel it on the chart first."
            }
        )
