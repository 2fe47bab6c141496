"""Changes to an open enrollment: level of care, track, phase, counselor, hold, resume
and discharge, each made now or scheduled for its date."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction

from core import clock
from core.formats import format_day
from core.models import User
from core.validators import require_dates_in_range

from ..models import (
    DischargeType,
    Enrollment,
    EnrollmentEvent,
    EnrollmentStatus,
    Patient,
    ProgramLevel,
    ProgramPhase,
    ScheduledChange,
    Track,
    TrackMembership,
)
from ._common import (
    _audit,
    _check_counselor,
    _check_track_and_phase,
    _close_membership,
    _event,
    _locked,
    _open_membership,
    _require_not_before_admission,
    _require_not_before_last,
    _require_open,
    _save,
)
from ._deferral import _deferred, _schedule

Kind = EnrollmentEvent.Kind
Change = ScheduledChange.Kind


@transaction.atomic
def enrollment_change_level(
    *,
    actor: User | None,
    enrollment: Enrollment,
    level: str,
    effective_date: date,
    reason: str,
    track: Track | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Enrollment | ScheduledChange:
    """Step up or down (e.g. IOP 2.1 to OP 1.0). A new level may need a new track."""
    now = clock.now(now)
    require_dates_in_range(effective_date=effective_date)
    enrollment = _locked(enrollment, expected_version)
    _require_open(enrollment, "change the level of care")
    _require_not_before_admission(enrollment, effective_date, "effective_date")
    if level == enrollment.level:
        raise ValidationError({"level": "The patient is already at that level of care."})
    _require_not_before_last(enrollment, effective_date, "effective_date", (Kind.LEVEL,))
    old = ProgramLevel(enrollment.level).label
    new_track: Track | None
    if track is not None:
        new_track = track  # chosen explicitly: it must serve the new level (checked below)
    else:
        new_track = enrollment.track
        if new_track is not None and new_track.level != level:
            new_track = None  # the old track does not serve the new level
    _check_track_and_phase(enrollment.site, level, new_track, None)
    if new_track != enrollment.track:
        _check_track_start(enrollment, effective_date)
    if _deferred(enrollment.site, effective_date, "effective_date", now):
        return _schedule(
            actor=actor,
            kind=Change.LEVEL,
            patient=enrollment.patient,
            enrollment=enrollment,
            effective_date=effective_date,
            now=now,
            summary=f"{old} to {ProgramLevel(level).label}"
            + (f", {new_track.name}" if new_track is not None else ""),
            level=level,
            track=track,
            reason=reason,
        )
    enrollment.level = level
    _save(enrollment, "level")
    _event(
        enrollment,
        Kind.LEVEL,
        actor=actor,
        effective_date=effective_date,
        now=now,
        from_value=old,
        to_value=ProgramLevel(level).label,
        reason=reason,
    )
    if new_track != enrollment.track:
        _switch_track(enrollment, new_track, effective_date, actor=actor, now=now, reason=reason)
    _audit("enrollment.level_changed", enrollment, actor, to=level)
    return enrollment


def _switch_track(
    enrollment: Enrollment,
    track: Track | None,
    effective_date: date,
    *,
    actor: User | None,
    now: datetime,
    reason: str,
) -> None:
    old = enrollment.track
    if enrollment.status == EnrollmentStatus.ACTIVE:
        _close_membership(enrollment, effective_date - timedelta(days=1))
    enrollment.track = track
    _save(enrollment, "track")
    if enrollment.status == EnrollmentStatus.ACTIVE:
        _open_membership(enrollment, effective_date)
    _event(
        enrollment,
        Kind.TRACK,
        actor=actor,
        effective_date=effective_date,
        now=now,
        from_value=old.name if old else "",
        to_value=track.name if track else "",
        reason=reason,
    )


def _check_track_start(enrollment: Enrollment, effective_date: date) -> None:
    # Past roster rows are never rewritten: a move cannot start before the current one.
    current = (
        TrackMembership.objects.filter(enrollment=enrollment, end_date__isnull=True)
        .values_list("start_date", flat=True)
        .first()
    )
    if current is not None and effective_date < current:
        raise ValidationError(
            {"effective_date": f"The current track only started on {format_day(current)}."}
        )


@transaction.atomic
def enrollment_change_track(
    *,
    actor: User | None,
    enrollment: Enrollment,
    track: Track | None,
    effective_date: date,
    reason: str = "",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Enrollment | ScheduledChange:
    """Move to another track from ``effective_date``; earlier rosters stay as they were."""
    now = clock.now(now)
    require_dates_in_range(effective_date=effective_date)
    enrollment = _locked(enrollment, expected_version)
    _require_open(enrollment, "change the track")
    _require_not_before_admission(enrollment, effective_date, "effective_date")
    if track is not None and track.pk == enrollment.track_id:
        raise ValidationError({"track": "The patient is already on that track."})
    _check_track_start(enrollment, effective_date)
    _check_track_and_phase(enrollment.site, enrollment.level, track, None)
    if _deferred(enrollment.site, effective_date, "effective_date", now):
        return _schedule(
            actor=actor,
            kind=Change.TRACK,
            patient=enrollment.patient,
            enrollment=enrollment,
            effective_date=effective_date,
            now=now,
            summary=f"To {track.name if track is not None else 'no track'}",
            track=track,
            reason=reason,
        )
    _switch_track(enrollment, track, effective_date, actor=actor, now=now, reason=reason)
    _audit("enrollment.track_changed", enrollment, actor, to=track.pk if track else None)
    return enrollment


@transaction.atomic
def enrollment_change_phase(
    *,
    actor: User | None,
    enrollment: Enrollment,
    phase: ProgramPhase,
    effective_date: date,
    reason: str = "",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Enrollment | ScheduledChange:
    now = clock.now(now)
    require_dates_in_range(effective_date=effective_date)
    enrollment = _locked(enrollment, expected_version)
    _require_open(enrollment, "change the phase")
    _require_not_before_admission(enrollment, effective_date, "effective_date")
    if phase.pk == enrollment.phase_id:
        raise ValidationError({"phase": "The patient is already in that phase."})
    _require_not_before_last(enrollment, effective_date, "effective_date", (Kind.PHASE,))
    _check_track_and_phase(enrollment.site, enrollment.level, None, phase)
    if _deferred(enrollment.site, effective_date, "effective_date", now):
        return _schedule(
            actor=actor,
            kind=Change.PHASE,
            patient=enrollment.patient,
            enrollment=enrollment,
            effective_date=effective_date,
            now=now,
            summary=f"To {phase.name}",
            phase=phase,
            reason=reason,
        )
    old = enrollment.phase.name if enrollment.phase else ""
    enrollment.phase = phase
    _save(enrollment, "phase")
    _event(
        enrollment,
        Kind.PHASE,
        actor=actor,
        effective_date=effective_date,
        now=now,
        from_value=old,
        to_value=phase.name,
        reason=reason,
    )
    _audit("enrollment.phase_changed", enrollment, actor, to=phase.number)
    return enrollment


@transaction.atomic
def enrollment_change_counselor(
    *,
    actor: User | None,
    enrollment: Enrollment,
    counselor: User,
    effective_date: date,
    reason: str = "",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Enrollment | ScheduledChange:
    now = clock.now(now)
    require_dates_in_range(effective_date=effective_date)
    enrollment = _locked(enrollment, expected_version)
    _require_open(enrollment, "change the counselor")
    _require_not_before_admission(enrollment, effective_date, "effective_date")
    _require_not_before_last(enrollment, effective_date, "effective_date", (Kind.COUNSELOR,))
    _check_counselor(counselor, enrollment.site_id)
    if _deferred(enrollment.site, effective_date, "effective_date", now):
        return _schedule(
            actor=actor,
            kind=Change.COUNSELOR,
            patient=enrollment.patient,
            enrollment=enrollment,
            effective_date=effective_date,
            now=now,
            summary=f"To {counselor}",
            counselor=counselor,
            reason=reason,
        )
    patient = Patient.objects.select_for_update().get(pk=enrollment.patient_id)
    if patient.primary_counselor_id == counselor.pk:
        raise ValidationError({"counselor": "That is already the primary counselor."})
    old = str(patient.primary_counselor) if patient.primary_counselor_id else ""
    patient.primary_counselor = counselor
    patient.save(update_fields=["primary_counselor", "updated_at"])
    _save(enrollment)
    _event(
        enrollment,
        Kind.COUNSELOR,
        actor=actor,
        effective_date=effective_date,
        now=now,
        from_value=old,
        to_value=str(counselor),
        reason=reason,
    )
    _audit("enrollment.counselor_changed", enrollment, actor, to=counselor.pk)
    return enrollment


@transaction.atomic
def enrollment_hold(
    *,
    actor: User | None,
    enrollment: Enrollment,
    effective_date: date,
    reason: str,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Enrollment | ScheduledChange:
    """Pause attendance (e.g. a hospital stay): off rosters and out of the draw pool."""
    now = clock.now(now)
    require_dates_in_range(effective_date=effective_date)
    enrollment = _locked(enrollment, expected_version)
    _require_open(enrollment, "put on hold")
    if enrollment.status == EnrollmentStatus.ON_HOLD:
        raise ValidationError("This enrollment is already on hold.")
    _require_not_before_admission(enrollment, effective_date, "effective_date")
    _require_not_before_last(enrollment, effective_date, "effective_date")
    if not reason.strip():
        raise ValidationError({"reason": "Say why the enrollment is on hold."})
    if _deferred(enrollment.site, effective_date, "effective_date", now):
        return _schedule(
            actor=actor,
            kind=Change.HOLD,
            patient=enrollment.patient,
            enrollment=enrollment,
            effective_date=effective_date,
            now=now,
            summary="On hold",
            reason=reason,
        )
    _close_membership(enrollment, effective_date - timedelta(days=1))
    enrollment.status = EnrollmentStatus.ON_HOLD
    _save(enrollment, "status")
    _event(
        enrollment,
        Kind.ON_HOLD,
        actor=actor,
        effective_date=effective_date,
        now=now,
        from_value="Active",
        to_value="On hold",
        reason=reason,
    )
    _audit("enrollment.on_hold", enrollment, actor)
    return enrollment


@transaction.atomic
def enrollment_resume(
    *,
    actor: User | None,
    enrollment: Enrollment,
    effective_date: date,
    reason: str = "",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Enrollment | ScheduledChange:
    now = clock.now(now)
    require_dates_in_range(effective_date=effective_date)
    enrollment = _locked(enrollment, expected_version)
    if enrollment.status != EnrollmentStatus.ON_HOLD:
        raise ValidationError("Only an enrollment on hold can be resumed.")
    last_hold = enrollment.events.filter(kind=Kind.ON_HOLD).order_by("-effective_date").first()
    if last_hold and effective_date < last_hold.effective_date:
        raise ValidationError(
            {"effective_date": f"The hold began on {format_day(last_hold.effective_date)}."}
        )
    if _deferred(enrollment.site, effective_date, "effective_date", now):
        return _schedule(
            actor=actor,
            kind=Change.RESUME,
            patient=enrollment.patient,
            enrollment=enrollment,
            effective_date=effective_date,
            now=now,
            summary="Back from hold",
            reason=reason,
        )
    enrollment.status = EnrollmentStatus.ACTIVE
    _save(enrollment, "status")
    _open_membership(enrollment, effective_date)
    _event(
        enrollment,
        Kind.RESUMED,
        actor=actor,
        effective_date=effective_date,
        now=now,
        from_value="On hold",
        to_value="Active",
        reason=reason,
    )
    _audit("enrollment.resumed", enrollment, actor)
    return enrollment


@transaction.atomic
def enrollment_discharge(
    *,
    actor: User | None,
    enrollment: Enrollment,
    discharge_date: date,
    discharge_type: str,
    aftercare_plan: str,
    note: str = "",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Enrollment | ScheduledChange:
    now = clock.now(now)
    require_dates_in_range(discharge_date=discharge_date)
    enrollment = _locked(enrollment, expected_version)
    _require_open(enrollment, "discharge")
    if discharge_date < enrollment.admission_date:
        raise ValidationError(
            {
                "discharge_date": "The discharge date is before admission "
                f"({format_day(enrollment.admission_date)})."
            }
        )
    _require_not_before_last(enrollment, discharge_date, "discharge_date")
    if discharge_type not in DischargeType.values:
        raise ValidationError({"discharge_type": "Choose a discharge type."})
    if not aftercare_plan.strip() and discharge_type != DischargeType.DECEASED:
        raise ValidationError({"aftercare_plan": "Every discharge needs an aftercare plan."})
    if _deferred(enrollment.site, discharge_date, "discharge_date", now):
        return _schedule(
            actor=actor,
            kind=Change.DISCHARGE,
            patient=enrollment.patient,
            enrollment=enrollment,
            effective_date=discharge_date,
            now=now,
            summary=DischargeType(discharge_type).label,
            discharge_type=discharge_type,
            aftercare_plan=aftercare_plan,
            note=note,
        )
    if enrollment.status == EnrollmentStatus.ACTIVE:
        _close_membership(enrollment, discharge_date)
    enrollment.status = EnrollmentStatus.DISCHARGED
    enrollment.discharge_date = discharge_date
    enrollment.discharge_type = discharge_type
    enrollment.aftercare_plan = aftercare_plan
    enrollment.discharge_note = note
    _save(
        enrollment, "status", "discharge_date", "discharge_type", "aftercare_plan", "discharge_note"
    )
    _event(
        enrollment,
        Kind.DISCHARGED,
        actor=actor,
        effective_date=discharge_date,
        now=now,
        to_value=DischargeType(discharge_type).label,
        reason=note,
    )
    _audit("enrollment.discharged", enrollment, actor, type=discharge_type)
    return enrollment
