"""Attendance: recording, correcting and make-up attendees, with the history of
every change and the minutes each mark credits."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction

from core import audit, clock
from core.clock import site_today
from core.formats import format_time
from core.models import User
from core.validators import require_dates_in_range
from patients.models import Patient

from ..models import (
    ATTENDED_STATUSES,
    Attendance,
    AttendanceChange,
    AttendanceStatus,
    Session,
    SessionStatus,
    SiteSchedule,
)
from ..selectors.rosters import session_roster_patients
from ..signals import attendance_recorded
from .weekly_hours import weekly_hours_refresh


def _minutes(start: datetime, end: datetime) -> int:
    return int((end - start).total_seconds() // 60)


def credited_minutes(
    session: Session, status: str, arrived_at: datetime | None, left_at: datetime | None
) -> int:
    """Minutes actually attended: from arrival (or the start) to departure (or the end)."""
    if status not in ATTENDED_STATUSES:
        return 0
    start = max(arrived_at or session.starts_at, session.starts_at)
    end = min(left_at or session.ends_at, session.ends_at)
    return max(0, _minutes(start, end))


def _validate_attendance(
    session: Session,
    status: str,
    arrived_at: datetime | None,
    left_at: datetime | None,
) -> None:
    require_dates_in_range(arrived_at=arrived_at, left_at=left_at)
    errors: dict[str, str] = {}
    if status not in AttendanceStatus.values:
        errors["status"] = "Choose an attendance status."
    if status not in ATTENDED_STATUSES and (arrived_at or left_at):
        errors["status"] = "An absence has no arrival or departure time."
    tz = session.site.tz
    window = f"{format_time(session.starts_at, tz=tz)}-{format_time(session.ends_at, tz=tz)}"
    for name, value in (("arrived_at", arrived_at), ("left_at", left_at)):
        if value is not None and not (session.starts_at <= value <= session.ends_at):
            errors[name] = f"The time must be within the session ({window})."
    if arrived_at and left_at and left_at <= arrived_at and "left_at" not in errors:
        errors["left_at"] = "Departure must be after arrival."
    late_without_time = arrived_at is None or arrived_at <= session.starts_at
    if status == AttendanceStatus.LATE and "arrived_at" not in errors and late_without_time:
        errors["arrived_at"] = "A late arrival needs the time the patient arrived."
    early_without_time = left_at is None or left_at >= session.ends_at
    if status == AttendanceStatus.LEFT_EARLY and "left_at" not in errors and early_without_time:
        errors["left_at"] = "Leaving early needs the time the patient left."
    if errors:
        raise ValidationError(errors)


def _require_session_open(session: Session, now: datetime, reason: str) -> None:
    if session.status != SessionStatus.SCHEDULED:
        raise ValidationError("A cancelled session takes no attendance (it is not an absence).")
    if now < session.starts_at - timedelta(minutes=15):
        raise ValidationError("This session has not started yet.")
    rules = SiteSchedule.for_site(session.site)
    age = (site_today(session.site, now) - session.local_date).days
    if age > rules.attendance_edit_days and not reason.strip():
        raise ValidationError(
            {
                "reason": f"This session is more than {rules.attendance_edit_days} days old: "
                "say why attendance is being entered or changed."
            }
        )


def _write_attendance(
    *,
    actor: User | None,
    session: Session,
    patient: Patient,
    status: str,
    arrived_at: datetime | None,
    left_at: datetime | None,
    note: str | None,
    reason: str,
    now: datetime,
    is_guest: bool = False,
) -> Attendance:
    minutes = credited_minutes(session, status, arrived_at, left_at)
    row = Attendance.objects.select_for_update().filter(session=session, patient=patient).first()
    before_status, before_minutes = (row.status, row.minutes_credited) if row else ("", None)
    if row is None:
        row = Attendance(
            session=session,
            patient=patient,
            recorded_at=now,
            recorded_by=actor,
            is_guest=is_guest,
        )
    elif (
        row.status == status
        and row.arrived_at == arrived_at
        and row.left_at == left_at
        and (note is None or row.note == note)
    ):
        return row  # nothing changed: no history row, no audit noise
    row.status, row.arrived_at, row.left_at = status, arrived_at, left_at
    row.minutes_credited = minutes
    if note is not None:
        row.note = note
    row.updated_at = now
    row.save()
    # In this transaction, after the write: the week's total is recomputed with it.
    weekly_hours_refresh(patient_id=patient.pk, day=session.local_date, now=now)
    AttendanceChange.objects.create(
        attendance=row,
        changed_by=actor,
        changed_at=now,
        from_status=before_status,
        to_status=status,
        from_minutes=before_minutes,
        to_minutes=minutes,
        reason=reason.strip(),
    )
    attendance_recorded.send(sender=Attendance, attendance_ids=[row.pk])
    audit.record(
        action="attendance.recorded" if before_status == "" else "attendance.changed",
        actor=actor,
        patient_id=patient.pk,
        site_id=session.site_id,
        obj=row,
        detail={"session": session.pk, "status": status, "late_entry": bool(reason.strip())},
    )
    return row


def _locked_session(session: Session) -> Session:
    return Session.objects.select_for_update(of=("self",)).select_related("site").get(pk=session.pk)


@transaction.atomic
def attendance_record(
    *,
    actor: User | None,
    session: Session,
    patient: Patient,
    status: str,
    arrived_at: datetime | None = None,
    left_at: datetime | None = None,
    note: str | None = None,
    reason: str = "",
    now: datetime | None = None,
) -> Attendance:
    """Record or correct one patient's attendance; every write is kept in the history."""
    now = clock.now(now)
    session = _locked_session(session)
    _require_session_open(session, now, reason)
    _validate_attendance(session, status, arrived_at, left_at)
    if patient.pk not in {p.pk for p in session_roster_patients(session)}:
        raise ValidationError(
            {"patient": "That patient is not on this session's roster; add them as make-up."}
        )
    return _write_attendance(
        actor=actor,
        session=session,
        patient=patient,
        status=status,
        arrived_at=arrived_at,
        left_at=left_at,
        note=note,
        reason=reason,
        now=now,
    )


@transaction.atomic
def attendance_mark_all_present(
    *, actor: User | None, session: Session, reason: str = "", now: datetime | None = None
) -> int:
    """Mark everyone on the roster not yet marked as present (existing marks are kept)."""
    now = clock.now(now)
    session = _locked_session(session)
    _require_session_open(session, now, reason)
    marked = set(Attendance.objects.filter(session=session).values_list("patient_id", flat=True))
    count = 0
    for patient in session_roster_patients(session):
        if patient.pk in marked:
            continue
        _write_attendance(
            actor=actor,
            session=session,
            patient=patient,
            status=AttendanceStatus.PRESENT,
            arrived_at=None,
            left_at=None,
            note=None,
            reason=reason,
            now=now,
        )
        count += 1
    return count


@transaction.atomic
def attendance_add_guest(
    *,
    actor: User | None,
    session: Session,
    patient: Patient,
    status: str = AttendanceStatus.PRESENT,
    arrived_at: datetime | None = None,
    left_at: datetime | None = None,
    reason: str = "",
    now: datetime | None = None,
) -> Attendance:
    """A make-up attendee from another track of the same site, within the capacity."""
    now = clock.now(now)
    session = _locked_session(session)
    _require_session_open(session, now, reason)
    if session.is_individual:
        raise ValidationError({"patient": "An individual session has one patient."})
    if patient.site_id != session.site_id:
        raise ValidationError({"patient": "That patient belongs to another site."})
    roster = session_roster_patients(session)
    if patient.pk in {p.pk for p in roster}:
        raise ValidationError({"patient": "That patient is already on the roster."})
    if len(roster) >= session.capacity:
        raise ValidationError(
            {"patient": f"The session is full ({session.capacity} places on the roster)."}
        )
    if status not in ATTENDED_STATUSES:
        raise ValidationError({"status": "A make-up attendee is recorded as attending."})
    _validate_attendance(session, status, arrived_at, left_at)
    return _write_attendance(
        actor=actor,
        session=session,
        patient=patient,
        status=status,
        arrived_at=arrived_at,
        left_at=left_at,
        note=None,
        reason=reason,
        now=now,
        is_guest=True,
    )
