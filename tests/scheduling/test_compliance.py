"""Weekly hours against ASAM minimums (site time zone, weeks from Monday), billing days."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from patients.compliance import ComplianceStatus
from scheduling.selectors.billing import billing_days
from scheduling.selectors.hours import compliance_status, weekly_hours, weekly_hours_precomputed
from scheduling.services.attendance import attendance_record
from scheduling.services.bookings import session_cancel

from .conftest import MONDAY, NOW

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")


@pytest.fixture(autouse=True, params=["live", "precomputed"])
def _both_readings(request, monkeypatch):
    """Every hours test here runs twice: summed from the attendance rows, and read from the
    precomputed weekly hours the attendance services keep (the pages' reading)."""
    if request.param == "precomputed":
        monkeypatch.setitem(globals(), "weekly_hours", weekly_hours_precomputed)


def _mark(session, patient, status="present", **times):
    return attendance_record(
        actor=None, session=session, patient=patient, status=status, now=NOW, **times
    )


def test_adult_iop_minimum_is_nine_hours_and_adolescent_six(make_patient, track, week_sessions):
    adult = make_patient(first="Ada", track=track, born=date(1990, 1, 1))
    teen = make_patient(first="Tee", track=track, born=date(2010, 6, 1))
    rows = {r.patient.pk: r for r in weekly_hours([adult, teen], MONDAY, now=NOW)}
    assert rows[adult.pk].minimum_minutes == 9 * 60
    assert rows[teen.pk].minimum_minutes == 6 * 60
    assert rows[adult.pk].adolescent is False and rows[teen.pk].adolescent is True
    assert rows[adult.pk].scheduled_minutes == 9 * 60


def test_two_full_sessions_meet_the_adolescent_minimum_but_not_the_adult(
    make_patient, track, week_sessions
):
    adult = make_patient(first="Ada", track=track, born=date(1990, 1, 1))
    teen = make_patient(first="Tee", track=track, born=date(2010, 6, 1))
    for s in week_sessions[:2]:
        _mark(s, adult)
        _mark(s, teen)
    rows = {r.patient.pk: r for r in weekly_hours([adult, teen], MONDAY, now=NOW)}
    assert rows[teen.pk].attended_minutes == 360
    assert rows[teen.pk].status == ComplianceStatus.MET
    # 6 h attended + Thursday's 3 h still to come: the adult can still make 9 h.
    assert rows[adult.pk].status == ComplianceStatus.ON_TRACK
    assert rows[adult.pk].remaining_minutes == 180


def test_late_arrival_makes_the_week_at_risk_mid_week(make_patient, track, week_sessions):
    p = make_patient(track=track)
    _mark(week_sessions[0], p)
    _mark(
        week_sessions[1],
        p,
        status="late",
        arrived_at=datetime(2026, 11, 17, 18, 30, tzinfo=NY),
    )
    row = weekly_hours([p], MONDAY, now=NOW)[0]
    assert row.attended_minutes == 180 + 150
    assert row.attended_hours == "5.5"
    assert row.status == ComplianceStatus.AT_RISK  # 5.5 + 3 < 9


def test_week_that_ended_short_is_below_minimum(make_patient, track, week_sessions):
    p = make_patient(track=track)
    _mark(week_sessions[0], p)
    row = weekly_hours([p], MONDAY, now=NOW + timedelta(days=7))[0]
    assert row.status == ComplianceStatus.BELOW


def test_cancelled_session_is_not_scheduled_nor_an_absence(make_patient, track, week_sessions):
    p = make_patient(track=track)
    session_cancel(actor=None, session=week_sessions[2], reason="Snow", now=NOW)
    row = weekly_hours([p], MONDAY, now=NOW)[0]
    assert row.scheduled_minutes == 360


def test_op_has_no_minimum(make_patient):
    p = make_patient(level="1.0")
    row = weekly_hours([p], MONDAY, now=NOW)[0]
    assert (row.minimum_minutes, row.status) == (0, ComplianceStatus.NO_MINIMUM)


def test_php_minimum_is_twenty_hours(make_patient):
    p = make_patient(level="2.5", born=date(2010, 1, 1))
    assert weekly_hours([p], MONDAY, now=NOW)[0].minimum_minutes == 20 * 60


def test_week_boundary_is_monday_midnight_in_the_site_time_zone(make_patient, track, make_session):
    # Sunday 23:00 local is Monday 04:00 UTC: it still belongs to the week before.
    p = make_patient(track=track)
    sunday = make_session(track, MONDAY - timedelta(days=1), time(21), time(23, 30))
    _mark(sunday, p)
    assert weekly_hours([p], MONDAY, now=NOW)[0].attended_minutes == 0
    assert weekly_hours([p], MONDAY - timedelta(days=7), now=NOW)[0].attended_minutes == 150


@pytest.mark.parametrize(
    ("attended", "remaining", "minimum", "over", "expected"),
    [
        (540, 0, 540, False, "met"),
        (360, 180, 540, False, "on_track"),
        (359, 180, 540, False, "at_risk"),
        (360, 0, 540, True, "below"),
        (0, 0, 0, True, "no_minimum"),
    ],
)
def test_compliance_status_rules(attended, remaining, minimum, over, expected):
    assert (
        compliance_status(attended=attended, remaining=remaining, minimum=minimum, week_over=over)
        == expected
    )


def test_billing_day_meets_three_hours_only_when_attended(make_patient, track, week_sessions, site):
    from patients.models import Patient

    full = make_patient(first="Full", track=track)
    part = make_patient(first="Part", track=track)
    _mark(week_sessions[0], full)
    _mark(
        week_sessions[0],
        part,
        status="left_early",
        left_at=datetime(2026, 11, 16, 20, 30, tzinfo=NY),
    )
    days = {d.patient.pk: d for d in billing_days(Patient.objects.all(), site, MONDAY, MONDAY)}
    assert days[full.pk].minutes == 180 and days[full.pk].meets_iop_day
    assert days[part.pk].minutes == 150 and not days[part.pk].meets_iop_day


def test_two_unexcused_absences_in_a_row_are_flagged(make_patient, track, week_sessions):
    from scheduling.selectors.streaks import unexcused_streaks

    flagged = make_patient(first="Flag", track=track)
    recovered = make_patient(first="Back", track=track)
    _mark(week_sessions[0], flagged, status="unexcused")
    _mark(week_sessions[1], flagged, status="unexcused")
    _mark(week_sessions[0], recovered, status="unexcused")
    _mark(week_sessions[1], recovered)
    streaks = unexcused_streaks([flagged.pk, recovered.pk], today=NOW.date())
    assert [(s.patient_id, s.count) for s in streaks] == [(flagged.pk, 2)]


def test_todays_unmarked_session_is_still_pending_not_missed(
    make_patient, track, week_sessions, make_session
):
    p = make_patient(track=track)
    wednesday = make_session(track, MONDAY + timedelta(days=2))  # ended an hour before NOW
    _mark(week_sessions[0], p)
    _mark(week_sessions[1], p, status="excused")
    row = weekly_hours([p], MONDAY, now=NOW)[0]
    assert row.remaining_minutes == 360  # tonight's (not marked yet) and Thursday's
    assert row.status == ComplianceStatus.ON_TRACK
    next_morning = NOW + timedelta(hours=10)
    assert weekly_hours([p], MONDAY, now=next_morning)[0].status == ComplianceStatus.AT_RISK
    assert wednesday.ends_at < NOW
