"""Helpers the enrollment services share: the row lock, the history row, the audit
row, the track roster and the checks on a track, a phase and a counselor."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError

from core import audit
from core.formats import format_day
from core.models import Site, User

from ..models import (
    Enrollment,
    EnrollmentEvent,
    EnrollmentStatus,
    ProgramLevel,
    ProgramPhase,
    Track,
    TrackMembership,
)
from ..signals import track_membership_changed
from .errors import ConcurrentEditError


def _locked(enrollment: Enrollment, expected_version: int | None) -> Enrollment:
    """Lock the row; refuse if someone saved it since the form was rendered."""
    locked = (
        Enrollment.objects.select_for_update(of=("self",))
        .select_related("patient", "site", "track", "phase")
        .get(pk=enrollment.pk)
    )
    if expected_version is not None and locked.version != expected_version:
        raise ConcurrentEditError(
            "Someone else changed this enrollment while you were editing. "
            "Reload the chart and make your change again."
        )
    return locked


def _require_open(enrollment: Enrollment, what: str) -> None:
    if enrollment.status == EnrollmentStatus.DISCHARGED:
        raise ValidationError(f"Cannot {what}: this enrollment was discharged.")


def _require_not_before_admission(enrollment: Enrollment, on: date, field: str) -> None:
    if on < enrollment.admission_date:
        raise ValidationError(
            {
                field: "The date cannot be before admission "
                f"({format_day(enrollment.admission_date)}).",
            }
        )


def _require_not_before_last(
    enrollment: Enrollment, on: date, field: str, kinds: tuple[str, ...] = ()
) -> None:
    """Keep the history in order: a move cannot take effect before the last recorded one
    (of the same kind, or of any kind when ``kinds`` is empty)."""
    events = enrollment.events.all()
    if kinds:
        events = events.filter(kind__in=kinds)
    last = events.order_by("-effective_date").values_list("effective_date", flat=True).first()
    if last is not None and on < last:
        raise ValidationError(
            {field: f"The date cannot be before the last recorded change ({format_day(last)})."}
        )


def _event(
    enrollment: Enrollment,
    kind: str,
    *,
    actor: User | None,
    effective_date: date,
    now: datetime,
    from_value: str = "",
    to_value: str = "",
    reason: str = "",
) -> EnrollmentEvent:
    return EnrollmentEvent.objects.create(
        enrollment=enrollment,
        kind=kind,
        effective_date=effective_date,
        from_value=str(from_value)[:120],
        to_value=str(to_value)[:120],
        reason=reason,
        actor=actor,
        recorded_at=now,
    )


def _audit(action: str, enrollment: Enrollment, actor: User | None, **detail: Any) -> None:
    audit.record(
        action=action,
        actor=actor,
        patient_id=enrollment.patient_id,
        site_id=enrollment.site_id,
        obj=enrollment,
        detail=detail,
    )


def _save(enrollment: Enrollment, *fields: str) -> None:
    enrollment.version += 1
    enrollment.save(update_fields=[*fields, "version"])


def _current_membership(enrollment: Enrollment) -> TrackMembership | None:
    return (
        TrackMembership.objects.select_for_update()
        .filter(enrollment=enrollment, end_date__isnull=True)
        .first()
    )


def _close_membership(enrollment: Enrollment, last_day: date) -> None:
    membership = _current_membership(enrollment)
    if membership is None:
        return
    if last_day < membership.start_date:
        # Superseded before it took effect (e.g. admitted to one track and moved on the
        # same day): it never covered a day, so no roster or attendance refers to it.
        # The move itself stays in the append-only EnrollmentEvent history.
        membership.delete()
    else:
        membership.end_date = last_day
        membership.save(update_fields=["end_date"])
    track_membership_changed.send(
        sender=TrackMembership, enrollment=enrollment, effective_date=last_day + timedelta(days=1)
    )


def _open_membership(enrollment: Enrollment, start: date) -> None:
    if enrollment.track_id is None:
        return
    TrackMembership.objects.create(
        enrollment=enrollment,
        patient_id=enrollment.patient_id,
        track_id=enrollment.track_id,
        start_date=start,
    )
    track_membership_changed.send(
        sender=TrackMembership, enrollment=enrollment, effective_date=start
    )


def _check_track_and_phase(
    site: Site, level: str, track: Track | None, phase: ProgramPhase | None
) -> None:
    errors: dict[str, str] = {}
    if track is not None:
        if track.site_id != site.pk:
            errors["track"] = "That track belongs to another site."
        elif not track.is_active:
            errors["track"] = "That track is no longer running."
        elif track.level != level:
            errors["track"] = (
                f"{track.name} serves {ProgramLevel(track.level).label}, "
                f"not {ProgramLevel(level).label}."
            )
    if phase is not None and phase.site_id != site.pk:
        errors["phase"] = "That phase belongs to another site."
    if errors:
        raise ValidationError(errors)


def _check_counselor(counselor: User, site_id: int) -> None:
    staff = counselor.staff
    if staff is None or not counselor.is_active:
        raise ValidationError({"counselor": "Choose an active staff member."})
    if not staff.sees_all_sites and not staff.sites.filter(pk=site_id).exists():
        raise ValidationError({"counselor": "That counselor does not work at this site."})
