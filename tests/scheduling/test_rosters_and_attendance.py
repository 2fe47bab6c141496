"""Rosters from effective-dated memberships, attendance arithmetic and its bad input."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from patients.services.enrollment import (
    enrollment_change_track,
    enrollment_discharge,
    enrollment_hold,
)
from patients.services.scheduled_changes import scheduled_changes_apply_due
from scheduling.models import Attendance, AttendanceChange, Session
from scheduling.selectors.rosters import session_roster_patients
from scheduling.services.attendance import (
    attendance_add_guest,
    attendance_mark_all_present,
    attendance_record,
)
from scheduling.services.bookings import session_cancel
from tests.conftest import SCENARIO_NOW

from .conftest import NOW

pytestmark = [pytest.mark.frozen(SCENARIO_NOW), pytest.mark.django_db]

NY = ZoneInfo("America/New_York")


# Just after midnight on the 19th in New York, when the beat job applies changes dated then.
ON_THE_19TH = datetime(2026, 11, 19, 0, 5, tzinfo=NY)


def _session(series, day):
    return Session.objects.get(series=series, local_date=day)


def test_patient_joining_mid_series_is_on_rosters_from_the_join_date(
    evening_series, make_patient, track
):
    joiner = make_patient(first="Jo", track=track, admitted=date(2026, 11, 17))
    assert joiner not in session_roster_patients(_session(evening_series, date(2026, 11, 16)))
    assert joiner in session_roster_patients(_session(evening_series, date(2026, 11, 17)))
    assert joiner in session_roster_patients(_session(evening_series, date(2026, 11, 30)))


def test_track_change_moves_future_rosters_and_keeps_past_attendance(
    evening_series, make_patient, track, day_track, counselor
):
    mover = make_patient(first="Mo", track=track)
    past = _session(evening_series, date(2026, 11, 16))
    attendance_record(actor=counselor, session=past, patient=mover, status="present", now=NOW)
    enrollment_change_track(
        actor=counselor,
        enrollment=mover.enrollments.get(),
        track=day_track,
        effective_date=date(2026, 11, 19),
        now=NOW,
    )
    # Dated tomorrow, it waits; the 19th's first run of the job applies it.
    assert mover in session_roster_patients(_session(evening_series, date(2026, 11, 19)))
    scheduled_changes_apply_due(now=ON_THE_19TH)
    assert mover in session_roster_patients(past)
    assert mover in session_roster_patients(_session(evening_series, date(2026, 11, 17)))
    assert mover not in session_roster_patients(_session(evening_series, date(2026, 11, 19)))
    row = Attendance.objects.get(session=past, patient=mover)
    assert (row.status, row.minutes_credited) == ("present", 180)


def test_discharge_takes_patient_off_later_rosters_only(evening_series, make_patient, track):
    leaver = make_patient(first="Lee", track=track)
    enrollment_discharge(
        actor=None,
        enrollment=leaver.enrollments.get(),
        discharge_date=date(2026, 11, 19),
        discharge_type="completed",
        aftercare_plan="Weekly OP",
        now=NOW,
    )
    scheduled_changes_apply_due(now=ON_THE_19TH)
    assert leaver in session_roster_patients(_session(evening_series, date(2026, 11, 19)))
    assert leaver not in session_roster_patients(_session(evening_series, date(2026, 11, 23)))


def test_hold_takes_patient_off_rosters_from_the_hold(evening_series, make_patient, track):
    held = make_patient(first="Hal", track=track)
    enrollment_hold(
        actor=None,
        enrollment=held.enrollments.get(),
        effective_date=date(2026, 11, 23),
        reason="Hospital stay",
        now=NOW,
    )
    assert held in session_roster_patients(_session(evening_series, date(2026, 11, 23)))
    scheduled_changes_apply_due(now=datetime(2026, 11, 23, 0, 5, tzinfo=NY))
    assert held in session_roster_patients(_session(evening_series, date(2026, 11, 19)))
    assert held not in session_roster_patients(_session(evening_series, date(2026, 11, 23)))


@pytest.mark.parametrize(
    ("status", "arrive", "leave", "minutes"),
    [
        ("present", None, None, 180),
        ("late", (18, 25), None, 155),
        ("left_early", None, (20, 0), 120),
        ("late", (18, 30), (20, 45), 135),
        ("excused", None, None, 0),
        ("unexcused", None, None, 0),
    ],
)
def test_minutes_credited_from_arrival_and_departure(
    evening_series, make_patient, track, counselor, status, arrive, leave, minutes
):
    p = make_patient(track=track)
    session = _session(evening_series, date(2026, 11, 16))
    day = session.local_date

    def at(hm):
        return datetime(day.year, day.month, day.day, *hm, tzinfo=NY) if hm else None

    row = attendance_record(
        actor=counselor,
        session=session,
        patient=p,
        status=status,
        arrived_at=at(arrive),
        left_at=at(leave),
        now=NOW,
    )
    row.refresh_from_db()
    assert row.minutes_credited == minutes


def test_attendance_time_outside_the_session_is_refused(
    evening_series, make_patient, track, counselor
):
    p = make_patient(track=track)
    session = _session(evening_series, date(2026, 11, 16))
    with pytest.raises(ValidationError) as err:
        attendance_record(
            actor=counselor,
            session=session,
            patient=p,
            status="late",
            arrived_at=datetime(2026, 11, 16, 21, 30, tzinfo=NY),
            now=NOW,
        )
    assert "arrived_at" in err.value.message_dict
    assert not Attendance.objects.exists()


def test_old_attendance_edit_needs_a_reason_kept_in_history(
    evening_series, make_patient, track, counselor
):
    p = make_patient(track=track)
    old = _session(evening_series, date(2026, 11, 2))  # 16 days before NOW
    with pytest.raises(ValidationError) as err:
        attendance_record(actor=counselor, session=old, patient=p, status="present", now=NOW)
    assert "reason" in err.value.message_dict
    attendance_record(
        actor=counselor,
        session=old,
        patient=p,
        status="present",
        reason="Sign-in sheet found",
        now=NOW,
    )
    change = AttendanceChange.objects.get(attendance__session=old)
    assert (change.to_status, change.reason) == ("present", "Sign-in sheet found")


def test_correction_keeps_the_earlier_value_in_history(
    evening_series, make_patient, track, counselor
):
    p = make_patient(track=track)
    session = _session(evening_series, date(2026, 11, 17))
    attendance_record(actor=counselor, session=session, patient=p, status="unexcused", now=NOW)
    attendance_record(actor=counselor, session=session, patient=p, status="present", now=NOW)
    changes = list(AttendanceChange.objects.filter(attendance__patient=p).order_by("pk"))
    assert [(c.from_status, c.to_status) for c in changes] == [
        ("", "unexcused"),
        ("unexcused", "present"),
    ]
    assert changes[1].from_minutes == 0 and changes[1].to_minutes == 180


def test_cancelled_session_takes_no_attendance(evening_series, make_patient, track, counselor):
    p = make_patient(track=track)
    session = _session(evening_series, date(2026, 11, 17))
    session_cancel(actor=counselor, session=session, reason="Facilitator ill", now=NOW)
    with pytest.raises(ValidationError):
        attendance_record(actor=counselor, session=session, patient=p, status="unexcused", now=NOW)


def test_all_present_marks_only_unmarked_roster(evening_series, make_patient, track, counselor):
    a, b, c = (make_patient(track=track) for _ in range(3))
    session = _session(evening_series, date(2026, 11, 17))
    attendance_record(actor=counselor, session=session, patient=a, status="excused", now=NOW)
    assert attendance_mark_all_present(actor=counselor, session=session, now=NOW) == 2
    statuses = dict(Attendance.objects.filter(session=session).values_list("patient", "status"))
    assert statuses == {a.pk: "excused", b.pk: "present", c.pk: "present"}


def test_patient_not_on_roster_cannot_be_marked(evening_series, make_patient, day_track, counselor):
    other = make_patient(track=day_track)
    with pytest.raises(ValidationError) as err:
        attendance_record(
            actor=counselor,
            session=_session(evening_series, date(2026, 11, 17)),
            patient=other,
            status="present",
            now=NOW,
        )
    assert "patient" in err.value.message_dict


def test_make_up_attendee_refused_when_session_is_full(
    evening_series, make_patient, track, day_track, counselor
):
    session = _session(evening_series, date(2026, 11, 17))
    Session.objects.filter(pk=session.pk).update(capacity=2)
    make_patient(track=track)
    guest = make_patient(track=day_track)
    attendance_add_guest(actor=counselor, session=session, patient=guest, now=NOW)
    late_guest = make_patient(track=day_track)
    with pytest.raises(ValidationError) as err:
        attendance_add_guest(actor=counselor, session=session, patient=late_guest, now=NOW)
    assert "full" in err.value.message_dict["patient"][0]
    assert guest in session_roster_patients(session)


def test_future_session_cannot_be_marked(evening_series, make_patient, track, counselor):
    p = make_patient(track=track)
    with pytest.raises(ValidationError):
        attendance_record(
            actor=counselor,
            session=_session(evening_series, date(2026, 11, 23)),
            patient=p,
            status="present",
            now=NOW,
        )


def test_attendance_writes_an_audit_row_without_phi(evening_series, make_patient, track, counselor):
    from core.models import AuditEvent

    p = make_patient(track=track)
    attendance_record(
        actor=counselor,
        session=_session(evening_series, date(2026, 11, 17)),
        patient=p,
        status="present",
        note="Shared about cravings at work",
        now=NOW,
    )
    event = AuditEvent.objects.get(action="attendance.recorded")
    assert event.patient_id == p.pk
    assert "cravings" not in str(event.detail)


def test_session_in_week_two_days_ahead_is_still_roster_of_track(make_session, track, make_patient):
    p = make_patient(track=track)
    s = make_session(track, NOW.date() + timedelta(days=2))
    assert session_roster_patients(s) == [p]
