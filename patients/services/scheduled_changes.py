"""Applying and cancelling scheduled changes: a due change goes through the same service
an immediate change uses."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import transaction

from core import clock, limits
from core.clock import site_today
from core.models import Site, User

from ..models import Enrollment, ProgramPhase, ScheduledChange, Track
from ._deferral import _audit_change
from .admission import enrollment_readmit
from .enrollment import (
    enrollment_change_counselor,
    enrollment_change_level,
    enrollment_change_phase,
    enrollment_change_track,
    enrollment_discharge,
    enrollment_hold,
    enrollment_resume,
)

Change = ScheduledChange.Kind
ChangeStatus = ScheduledChange.Status


# kind -> (the service that applies it, the name of its date argument)
_APPLIERS: dict[str, tuple[Callable[..., Enrollment | ScheduledChange], str]] = {
    Change.ADMISSION: (enrollment_readmit, "admission_date"),
    Change.LEVEL: (enrollment_change_level, "effective_date"),
    Change.TRACK: (enrollment_change_track, "effective_date"),
    Change.PHASE: (enrollment_change_phase, "effective_date"),
    Change.COUNSELOR: (enrollment_change_counselor, "effective_date"),
    Change.HOLD: (enrollment_hold, "effective_date"),
    Change.RESUME: (enrollment_resume, "effective_date"),
    Change.DISCHARGE: (enrollment_discharge, "discharge_date"),
}


def _loaded(name: str, value: Any) -> Any:
    """A payload value (as stored in JSON) turned back into the argument the service takes."""
    if value is None:
        return None
    if name == "track":
        return Track.objects.get(pk=value)
    if name == "phase":
        return ProgramPhase.objects.get(pk=value)
    if name == "counselor":
        return User.objects.get(pk=value)
    if name == "expected_end_date":
        return date.fromisoformat(value)
    return value


def _apply(change: ScheduledChange, now: datetime) -> Enrollment:
    service, date_argument = _APPLIERS[change.kind]
    arguments = {name: _loaded(name, value) for name, value in change.payload.items()}
    arguments[date_argument] = change.effective_date
    if change.kind == Change.ADMISSION:
        arguments["patient"] = change.patient
    else:
        arguments["enrollment"] = change.enrollment
    result = service(actor=change.created_by, now=now, **arguments)
    if not isinstance(result, Enrollment):  # only a date still ahead is deferred
        raise ValidationError("The change is not due yet.")
    return result


# Durable: the claim below only keeps a second worker out once it is committed, and each
# change must commit (or fail) on its own; inside a caller's transaction neither holds.
@transaction.atomic(durable=True)
def scheduled_change_apply(*, change_id: int, now: datetime | None = None) -> str:
    """Apply one due change through the service an immediate change uses.

    The row is claimed by a conditional UPDATE (pending to applied) before anything is
    applied, so a second run, a redelivered message or a concurrent worker finds nothing
    to claim. A change the service refuses (e.g. the track closed meanwhile) is marked
    failed, with the service's reason, for staff to see on the chart.
    """
    now = clock.now(now)
    change = (
        ScheduledChange.objects.select_related("patient__site", "enrollment", "created_by")
        .filter(pk=change_id)
        .first()
    )
    if change is None or change.status != ChangeStatus.PENDING:
        return "skipped"
    if change.effective_date > site_today(change.patient.site, now):
        return "not_due"
    claimed = ScheduledChange.objects.filter(pk=change.pk, status=ChangeStatus.PENDING).update(
        status=ChangeStatus.APPLIED, applied_at=now
    )
    if not claimed:
        return "skipped"
    try:
        with transaction.atomic():
            enrollment = _apply(change, now)
    except (ValidationError, ObjectDoesNotExist) as exc:
        reason = limits.clip("; ".join(getattr(exc, "messages", None) or [str(exc)]), limits.REASON)
        ScheduledChange.objects.filter(pk=change.pk).update(
            status=ChangeStatus.FAILED, failure=reason
        )
        _audit_change("scheduled_change.failed", change, None, reason=reason)
        return "failed"
    if change.kind == Change.ADMISSION:
        ScheduledChange.objects.filter(pk=change.pk).update(enrollment=enrollment)
    _audit_change("scheduled_change.applied", change, None)
    return "applied"


def scheduled_changes_apply_due(*, now: datetime | None = None) -> dict[str, int]:
    """Apply every change whose date has come at its own site.

    Not one transaction: each change is applied (or fails) on its own, so one refusal
    does not hold back the rest.
    """
    now = clock.now(now)
    # No zone is a day ahead of UTC's date; the exact cut is made per site below.
    horizon = now.astimezone(UTC).date() + timedelta(days=1)
    due = ScheduledChange.objects.filter(status=ChangeStatus.PENDING, effective_date__lte=horizon)
    outcomes = Counter({"applied": 0, "failed": 0, "skipped": 0})
    site_ids = set(due.values_list("patient__site_id", flat=True))
    for site in Site.objects.filter(pk__in=site_ids):
        ids = (
            due.filter(patient__site=site, effective_date__lte=site_today(site, now))
            .order_by("effective_date", "created_at", "pk")
            .values_list("pk", flat=True)
        )
        for change_id in list(ids):
            outcomes[scheduled_change_apply(change_id=change_id, now=now)] += 1
    return dict(outcomes)


CANCEL_REASON_MAX = limits.SHORT_REASON


@transaction.atomic
def scheduled_change_cancel(
    *, actor: User | None, change: ScheduledChange, reason: str, now: datetime | None = None
) -> ScheduledChange:
    """Withdraw an upcoming (or failed) change; it is kept, with who, when and why."""
    now = clock.now(now)
    if not reason.strip():
        raise ValidationError({"reason": "Say why the change is cancelled."})
    if len(reason) > CANCEL_REASON_MAX or "\x00" in reason:
        raise ValidationError(
            {"reason": f"Keep the reason to {CANCEL_REASON_MAX} characters of plain text."}
        )
    cancelled = ScheduledChange.objects.filter(
        pk=change.pk, status__in=(ChangeStatus.PENDING, ChangeStatus.FAILED)
    ).update(
        status=ChangeStatus.CANCELLED, cancelled_by=actor, cancelled_at=now, cancel_reason=reason
    )
    if not cancelled:
        raise ValidationError("This change was already applied or cancelled.")
    change = ScheduledChange.objects.select_related("patient").get(pk=change.pk)
    _audit_change("scheduled_change.cancelled", change, actor, reason=reason)
    return change
