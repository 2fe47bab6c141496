"""The one "two unexcused absences in a row" rule (DOMAIN.md: a cancelled session is not
an absence), shared by the staff home's alert and the counselor's reminder."""

from datetime import timedelta

import pytest

from scheduling.models import Attendance, SessionStatus
from scheduling.selectors.streaks import unexcused_streaks
from scheduling.services.attendance import attendance_record

from .conftest import MONDAY, NOW

pytestmark = pytest.mark.django_db


def _mark(session, patient, status="unexcused"):
    return attendance_record(
        actor=None,
        session=session,
        patient=patient,
        status=status,
        reason="entered after the fact",
        now=NOW,
    )


def _cancel(session):
    session.status = SessionStatus.CANCELLED
    session.save(update_fields=["status"])


def _loaded(attendance):
    return Attendance.objects.select_related("session").get(pk=attendance.pk)


def test_a_cancelled_session_neither_counts_nor_breaks_a_streak(
    make_patient, track, make_session, django_assert_num_queries
):
    monday, tuesday, wednesday = (make_session(track, MONDAY + timedelta(days=d)) for d in range(3))
    streak = make_patient(first="Two", track=track)
    one = make_patient(first="One", track=track)
    _mark(monday, streak)
    _mark(tuesday, streak, status="present")  # marked, then the session was called off
    last = _mark(wednesday, streak)
    _mark(monday, one, status="present")
    _mark(tuesday, one)  # an absence at a session that was then called off
    only = _mark(wednesday, one)
    _cancel(tuesday)

    with django_assert_num_queries(1):
        found = unexcused_streaks([streak.pk, one.pk], today=NOW.date())
    assert [(s.patient_id, s.count, s.last_session_id) for s in found] == [
        (streak.pk, 2, wednesday.pk)
    ]
    # The counselor's reminder asks the same question of the attendance just recorded.
    recorded = [_loaded(last), _loaded(only)]
    with django_assert_num_queries(1):
        found = unexcused_streaks(ending_with=recorded)
    assert [(s.patient_id, s.count) for s in found] == [(streak.pk, 2)]


def test_a_streak_ends_at_the_given_attendance_not_at_a_later_one(
    make_patient, track, make_session
):
    monday, tuesday, wednesday = (make_session(track, MONDAY + timedelta(days=d)) for d in range(3))
    p = make_patient(track=track)
    _mark(monday, p, status="present")
    first = _mark(tuesday, p)
    second = _mark(wednesday, p)
    assert unexcused_streaks(ending_with=[_loaded(first)]) == []
    assert [s.count for s in unexcused_streaks(ending_with=[_loaded(second)])] == [2]


def test_an_attendance_at_a_cancelled_session_ends_no_streak(make_patient, track, make_session):
    monday, tuesday = (make_session(track, MONDAY + timedelta(days=d)) for d in range(2))
    p = make_patient(track=track)
    _mark(monday, p)
    last = _mark(tuesday, p)
    _cancel(tuesday)
    assert unexcused_streaks(ending_with=[_loaded(last)]) == []


def test_an_absence_more_than_four_weeks_before_is_not_in_a_row(make_patient, track, make_session):
    long_ago = make_session(track, MONDAY - timedelta(days=29))
    recent = make_session(track, MONDAY)
    p = make_patient(track=track)
    _mark(long_ago, p)
    last = _mark(recent, p)
    assert unexcused_streaks([p.pk], today=MONDAY) == []
    assert unexcused_streaks(ending_with=[_loaded(last)]) == []
    assert [s.count for s in unexcused_streaks([p.pk], today=MONDAY, lookback_days=29)] == [2]
