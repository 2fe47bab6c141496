"""The precomputed weekly hours (``WeeklyHours``): kept by every attendance write, rebuilt
from the attendance rows, equal to the live computation, and read by the pages."""

import threading
from datetime import date, datetime, time, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from scheduling.models import WeeklyHours
from scheduling.selectors.hours import weekly_hours, weekly_hours_precomputed
from scheduling.services.attendance import (
    attendance_add_guest,
    attendance_mark_all_present,
    attendance_record,
)
from scheduling.services.bookings import session_cancel
from scheduling.services.weekly_hours import weekly_hours_rebuild

from .conftest import MONDAY, NOW

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")
# US daylight saving time ends on Sunday November 1, 2026 (02:00 EDT -> 01:00 EST): the
# week of Monday October 26 is 169 hours long.
DST_MONDAY = date(2026, 10, 26)


def _mark(session, patient, status="present", **extra):
    extra.setdefault("reason", "Entered from the sign-in sheet")
    return attendance_record(
        actor=None, session=session, patient=patient, status=status, now=NOW, **extra
    )


def _stored(patient, monday=MONDAY):
    return WeeklyHours.objects.get(patient=patient, week_start=monday)


def test_marking_attendance_stores_the_weeks_minutes(make_patient, track, week_sessions):
    p = make_patient(track=track)
    _mark(week_sessions[0], p)
    _mark(week_sessions[1], p)
    row = _stored(p)
    assert row.attended_minutes == 360
    assert row.day_minutes == [180, 180, 0, 0, 0, 0, 0]


def test_correcting_a_mark_recomputes_the_week(make_patient, track, week_sessions):
    p = make_patient(track=track)
    _mark(week_sessions[0], p)
    _mark(
        week_sessions[0],
        p,
        status="left_early",
        left_at=datetime(2026, 11, 16, 19, 30, tzinfo=NY),
    )
    assert _stored(p).attended_minutes == 90


def test_changing_a_mark_to_an_absence_takes_its_minutes_off(make_patient, track, week_sessions):
    p = make_patient(track=track)
    _mark(week_sessions[0], p)
    _mark(week_sessions[1], p)
    _mark(week_sessions[0], p, status="excused")
    row = _stored(p)
    assert row.attended_minutes == 180
    assert row.day_minutes == [0, 180, 0, 0, 0, 0, 0]


def test_marking_everyone_present_stores_each_patients_week(make_patient, track, week_sessions):
    people = [make_patient(track=track) for _ in range(3)]
    attendance_mark_all_present(actor=None, session=week_sessions[0], reason="sheet", now=NOW)
    assert [_stored(p).attended_minutes for p in people] == [180, 180, 180]


def test_a_make_up_attendee_gets_the_minutes(make_patient, track, day_track, week_sessions):
    guest = make_patient(track=day_track)
    attendance_add_guest(
        actor=None, session=week_sessions[0], patient=guest, reason="make-up", now=NOW
    )
    assert _stored(guest).attended_minutes == 180


def test_cancelling_a_session_leaves_the_attended_minutes_and_drops_it_from_the_schedule(
    make_patient, track, week_sessions
):
    p = make_patient(track=track)
    _mark(week_sessions[0], p)
    thursday = week_sessions[2]
    session_cancel(actor=None, session=thursday, reason="Facilitator ill", now=NOW)
    assert _stored(p).attended_minutes == 180
    [row] = weekly_hours_precomputed([p], MONDAY, now=NOW)
    assert (row.attended_minutes, row.scheduled_minutes, row.remaining_minutes) == (180, 360, 0)


def test_the_page_reads_the_stored_minutes_not_the_attendance_rows(
    make_patient, track, week_sessions
):
    p = make_patient(track=track)
    _mark(week_sessions[0], p)
    # A stored figure the attendance rows do not give: only the table can be its source.
    WeeklyHours.objects.filter(patient=p).update(
        attended_minutes=45, day_minutes=[0, 0, 45, 0, 0, 0, 0]
    )
    [row] = weekly_hours_precomputed([p], MONDAY, now=NOW)
    assert row.attended_minutes == 45
    assert row.days[MONDAY + timedelta(days=2)] == 45


@pytest.fixture
def dst_week(make_patient, track, make_session):
    """Marks in the week of the DST change, one of them on Sunday evening after it (Monday
    in UTC), and on the Monday after, for two patients."""
    people = [make_patient(track=track) for _ in range(2)]
    sessions = [
        make_session(track, DST_MONDAY, time(18), time(21)),
        make_session(track, DST_MONDAY + timedelta(days=3), time(18), time(21)),
        make_session(track, DST_MONDAY + timedelta(days=6), time(20), time(23)),
        make_session(track, DST_MONDAY + timedelta(days=7), time(18), time(21)),
    ]
    for s in sessions:
        _mark(s, people[0])
    _mark(sessions[2], people[1])
    _mark(sessions[3], people[1], status="unexcused")
    return people


def _figures(rows):
    return [(r.patient.pk, r.attended_minutes, r.days, r.status) for r in rows]


def test_rebuild_gives_the_live_figures_across_a_dst_change(dst_week):
    WeeklyHours.objects.update(attended_minutes=999, day_minutes=[999] * 7)
    weekly_hours_rebuild(first=DST_MONDAY, last=DST_MONDAY + timedelta(days=7), now=NOW)
    for monday in (DST_MONDAY, DST_MONDAY + timedelta(days=7)):
        stored = weekly_hours_precomputed(dst_week, monday, now=NOW)
        assert _figures(stored) == _figures(weekly_hours(dst_week, monday, now=NOW))
    assert _stored(dst_week[0], DST_MONDAY).day_minutes == [180, 0, 0, 180, 0, 0, 180]


def test_rebuild_zeroes_a_stored_week_without_attendance(make_patient, track):
    p = make_patient(track=track)
    WeeklyHours.objects.create(
        patient=p,
        week_start=MONDAY,
        attended_minutes=60,
        day_minutes=[60] + [0] * 6,
        updated_at=NOW,
    )
    weekly_hours_rebuild(first=MONDAY, last=MONDAY, now=NOW)
    assert _stored(p).attended_minutes == 0


def test_rebuild_twice_writes_nothing_the_second_time(dst_week):
    WeeklyHours.objects.all().delete()
    assert weekly_hours_rebuild(first=DST_MONDAY, last=NOW.date(), now=NOW) > 0
    assert weekly_hours_rebuild(first=DST_MONDAY, last=NOW.date(), now=NOW) == 0


def test_the_command_rebuilds_every_week_with_attendance(dst_week):
    WeeklyHours.objects.all().delete()
    call_command("rebuild_weekly_hours", stdout=StringIO())
    assert _stored(dst_week[0], DST_MONDAY).attended_minutes == 540
    # An absence only: no minutes, and no row (a week without one reads as zero).
    assert not WeeklyHours.objects.filter(
        patient=dst_week[1], week_start=DST_MONDAY + timedelta(days=7)
    ).exists()


@pytest.mark.parametrize("size", [2, 10])
def test_hours_page_reads_a_fixed_number_of_queries(
    client, director, track, week_sessions, make_patient, django_assert_num_queries, size
):
    people = [make_patient(track=track) for _ in range(size)]
    for p in people:
        _mark(week_sessions[0], p)
    client.force_login(director)
    client.get(reverse("scheduling:compliance"), {"week": MONDAY.isoformat()})  # warm caches
    with django_assert_num_queries(10):
        response = client.get(reverse("scheduling:compliance"), {"week": MONDAY.isoformat()})
    assert response.content.count(b"180\xe2\x80\xb2") == size


@pytest.mark.parametrize("size", [2, 10])
def test_hours_selector_reads_four_queries(
    make_patient, track, week_sessions, django_assert_num_queries, size
):
    people = [make_patient(track=track) for _ in range(size)]
    for p in people:
        _mark(week_sessions[0], p)
    people = list(
        type(people[0]).objects.select_related("site").filter(pk__in=[p.pk for p in people])
    )
    with django_assert_num_queries(4):
        rows = weekly_hours_precomputed(people, MONDAY, now=NOW)
    assert [r.attended_minutes for r in rows] == [180] * size


def _lock_waiters() -> int:
    from django.db import connections

    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return int(cursor.fetchone()[0])


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs row locks")
def test_two_marks_of_one_patients_week_at_once_leave_both_minutes(
    make_patient, track, week_sessions, make_session, monkeypatch
):
    """The first mark has recomputed the week and not committed yet when the second one
    recomputes it: the second must wait for the week's row and count both (summing before
    taking the row would count only its own mark and overwrite the first)."""
    import scheduling.services.attendance as attendance_services

    p = make_patient(track=track)
    _mark(make_session(track, MONDAY + timedelta(days=2), time(9), time(12)), p)  # row exists
    refreshed, release = threading.Event(), threading.Event()
    real_refresh = attendance_services.weekly_hours_refresh

    def refresh_then_hold(**kwargs):
        real_refresh(**kwargs)
        if threading.current_thread().name == "first":
            refreshed.set()
            assert release.wait(timeout=20)

    monkeypatch.setattr(attendance_services, "weekly_hours_refresh", refresh_then_hold)
    errors = []

    def mark(session, wait_for=None):
        from django.db import connections

        try:
            if wait_for is not None:
                assert wait_for.wait(timeout=20)
            _mark(session, p)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    first = threading.Thread(target=mark, args=(week_sessions[0],), name="first")
    second = threading.Thread(target=mark, args=(week_sessions[1], refreshed), name="second")
    first.start()
    second.start()
    # Let the first commit once the second is blocked on a lock (or, unlocked, done).
    for _ in range(2000):
        if not second.is_alive() or (refreshed.is_set() and _lock_waiters() > 0):
            break
        threading.Event().wait(0.01)
    release.set()
    first.join(timeout=20)
    second.join(timeout=20)
    assert errors == []
    assert _stored(p).attended_minutes == 540
