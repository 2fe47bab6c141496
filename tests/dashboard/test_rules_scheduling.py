"""Scheduling alert rules: two no-shows in a row, weekly hours, no contact for 7 days."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from alerts.services import alert_acknowledge
from core.alerts import RULES, collect_alerts
from patients.models import Enrollment, Patient
from scheduling.alerts import no_contact, unexcused_streak, weekly_hours_short
from tests.alerts.queue import swept as alerts_for
from tests.conftest import SCENARIO_NOW

# Written for the suite's scenario instant (tests/conftest.py).
pytestmark = pytest.mark.frozen(SCENARIO_NOW)

NY = ZoneInfo("America/New_York")
# Wednesday November 18 2026, 22:00 in New York; the evening track meets Mon/Tue/Thu.
NOW = datetime(2026, 11, 18, 22, 0, tzinfo=NY)
TODAY = date(2026, 11, 18)
MONDAY = date(2026, 11, 16)


@pytest.fixture
def sessions(track, counselor):
    """The evening track's sessions from Sep 1 on, by local date."""
    from scheduling.models import Session
    from scheduling.services.materialization import sessions_materialize
    from scheduling.services.series import series_create

    series_create(
        actor=counselor,
        track=track,
        weekdays=["MO", "TU", "TH"],
        start_time=time(18),
        end_time=time(21),
        starts_on=date(2026, 9, 1),
        kind="relapse_prevention",
        now=datetime(2026, 9, 1, 8, tzinfo=NY),
    )
    sessions_materialize(site=track.site, now=NOW, first=date(2026, 9, 1))
    return {s.local_date: s for s in Session.objects.filter(track=track)}


@pytest.fixture
def mark(sessions):
    """Attendance written directly (setup only; the service is used where it matters)."""
    from scheduling.models import Attendance
    from scheduling.services.attendance import credited_minutes

    def write(patient, day: date, status: str = "present"):
        s = sessions[day]
        return Attendance.objects.create(
            session=s,
            patient=patient,
            status=status,
            minutes_credited=credited_minutes(s, status, None, None),
            recorded_at=s.ends_at,
            updated_at=s.ends_at,
        )

    return write


@pytest.fixture
def member(make_patient, track):
    def admit(first: str, admitted: date = date(2026, 9, 1), **extra):
        return make_patient(first=first, track=track, admitted=admitted, **extra)

    return admit


def _of(patients) -> object:
    return Patient.objects.filter(pk__in=[p.pk for p in patients])


def _kinds(alerts, kind):
    return [a for a in alerts if a.kind == kind]


# --- two unexcused absences in a row ----------------------------------------


def test_two_unexcused_absences_in_a_row_raise_an_urgent_alert(member, mark, sessions):
    robin = member("Robin")
    mark(robin, date(2026, 11, 12))
    mark(robin, MONDAY, "unexcused")
    mark(robin, date(2026, 11, 17), "unexcused")
    [alert] = unexcused_streak(_of([robin]), TODAY)
    latest = sessions[date(2026, 11, 17)]
    assert alert.key == f"unexcused:{robin.pk}:{latest.pk}"
    assert alert.severity == "danger" and alert.patient_name == "Robin Doe"
    assert "2 unexcused absences in a row" in alert.message
    assert alert.action_url == reverse("scheduling:attendance", args=[latest.pk])


def test_one_unexcused_absence_after_attending_raises_nothing(member, mark):
    robin = member("Robin")
    mark(robin, MONDAY, "unexcused")
    mark(robin, date(2026, 11, 17), "present")
    mark(robin, date(2026, 11, 12), "unexcused")
    assert unexcused_streak(_of([robin]), TODAY) == []


def test_an_excused_absence_breaks_the_streak(member, mark):
    robin = member("Robin")
    mark(robin, date(2026, 11, 12), "unexcused")
    mark(robin, MONDAY, "excused")
    mark(robin, date(2026, 11, 17), "unexcused")
    assert unexcused_streak(_of([robin]), TODAY) == []


def test_streak_alert_disappears_when_attendance_is_corrected_to_present(
    counselor, member, mark, sessions
):
    from scheduling.services.attendance import attendance_record

    robin = member("Robin")
    mark(robin, MONDAY, "unexcused")
    mark(robin, date(2026, 11, 17), "unexcused")
    assert _kinds(alerts_for(counselor, now=NOW), "unexcused_streak")
    attendance_record(
        actor=counselor,
        session=sessions[date(2026, 11, 17)],
        patient=robin,
        status="present",
        now=NOW,
    )
    assert _kinds(alerts_for(counselor, now=NOW), "unexcused_streak") == []


def test_acknowledged_streak_comes_back_for_a_later_absence(counselor, member, mark, sessions):
    robin = member("Robin")
    mark(robin, MONDAY, "unexcused")
    mark(robin, date(2026, 11, 17), "unexcused")
    [first] = _kinds(alerts_for(counselor, now=NOW), "unexcused_streak")
    alert_acknowledge(actor=counselor, alert=first, reason="Called him", now=NOW)
    assert _kinds(alerts_for(counselor, now=NOW), "unexcused_streak") == []
    mark(robin, date(2026, 11, 19), "unexcused")
    later = NOW + timedelta(days=1)
    [again] = _kinds(alerts_for(counselor, now=later), "unexcused_streak")
    assert again.key != first.key and "3 unexcused absences" in again.message


def test_streak_of_another_counselors_patient_is_not_in_my_queue(
    other_counselor, member, mark, counselor
):
    robin = member("Robin")
    mark(robin, MONDAY, "unexcused")
    mark(robin, date(2026, 11, 17), "unexcused")
    assert _kinds(alerts_for(other_counselor, now=NOW), "unexcused_streak") == []


# --- weekly hours -------------------------------------------------------------


def test_hours_out_of_reach_this_week_is_at_risk(member, mark):
    robin = member("Robin")
    for day in (date(2026, 11, 9), date(2026, 11, 10), date(2026, 11, 12)):
        mark(robin, day)
    mark(robin, MONDAY, "unexcused")
    mark(robin, date(2026, 11, 17))
    [alert] = weekly_hours_short(_of([robin]), TODAY)
    assert alert.kind == "hours_at_risk" and alert.key == f"hours:{robin.pk}:2026-11-16"
    assert "3.0 h attended, at most 6.0 h of the 9.0 h minimum" in alert.message
    assert alert.action_url == reverse("patients:chart", args=[robin.pk])


def test_hours_still_reachable_this_week_raise_nothing(member, mark):
    kim = member("Kim")
    for day in (date(2026, 11, 9), date(2026, 11, 10), date(2026, 11, 12), MONDAY):
        mark(kim, day)
    mark(kim, date(2026, 11, 17), "late")
    # 6 h attended + Thursday's 3 h still to come: the 9 h minimum can be met.
    assert weekly_hours_short(_of([kim]), TODAY) == []


def test_at_risk_alert_says_when_the_schedule_itself_falls_short(member, mark, sessions):
    from scheduling.models import Session

    robin = member("Robin")
    for day in (date(2026, 11, 9), date(2026, 11, 10), date(2026, 11, 12), MONDAY):
        mark(robin, day)
    mark(robin, date(2026, 11, 17))
    Session.objects.filter(pk=sessions[date(2026, 11, 19)].pk).update(status="cancelled")
    [alert] = weekly_hours_short(_of([robin]), TODAY)
    assert alert.kind == "hours_at_risk" and "(only 6.0 h scheduled)" in alert.message


def test_last_week_below_the_minimum_raises_an_alert_for_that_week(member, mark):
    kim = member("Kim")
    mark(kim, date(2026, 11, 9))
    mark(kim, date(2026, 11, 10), "excused")
    mark(kim, date(2026, 11, 12))
    mark(kim, MONDAY)
    mark(kim, date(2026, 11, 17))
    [alert] = weekly_hours_short(_of([kim]), TODAY)
    assert alert.kind == "hours_below" and alert.key == f"hours:{kim.pk}:2026-11-09"
    assert "6.0 of 9.0 h" in alert.message


def test_week_of_admission_is_not_judged(member, mark):
    new = member("New", admitted=date(2026, 11, 17))
    assert weekly_hours_short(_of([new]), TODAY) == []


def test_patient_on_hold_gets_no_hours_or_contact_alert(member):
    robin = member("Robin")
    Enrollment.objects.filter(patient=robin).update(status="on_hold")
    assert weekly_hours_short(_of([robin]), TODAY) == []
    assert no_contact(_of([robin]), TODAY) == []


# --- no contact for 7 days --------------------------------------------------


def test_no_attended_session_for_seven_days_raises_an_alert_naming_the_last_contact(member, mark):
    robin = member("Robin")
    mark(robin, date(2026, 11, 10))
    mark(robin, date(2026, 11, 12), "unexcused")
    [alert] = no_contact(_of([robin]), TODAY)
    assert alert.key == f"nocontact:{robin.pk}:2026-11-10"
    assert alert.message == "No attended session for 8 days (last Tue Nov 10)"
    assert alert.action_url == reverse("patients:chart", args=[robin.pk])


def test_attended_within_seven_days_raises_no_contact_alert(member, mark):
    kim = member("Kim")
    mark(kim, date(2026, 11, 12))
    assert no_contact(_of([kim]), TODAY) == []


def test_never_attended_since_admission_more_than_seven_days_ago(member, sessions):
    old = member("Old", admitted=date(2026, 11, 10))
    recent = member("Recent", admitted=date(2026, 11, 14))
    [alert] = no_contact(_of([old, recent]), TODAY)
    assert alert.patient_id == old.pk and alert.key == f"nocontact:{old.pk}:2026-11-10"
    assert "since admission on Tue Nov 10" in alert.message


# --- query counts -------------------------------------------------------------


def _caseload(member, mark, size: int):
    """``size`` patients, each with a streak, a short week and no recent contact."""
    people = [member(f"P{i}") for i in range(size)]
    for p in people:
        mark(p, date(2026, 11, 5))
        mark(p, date(2026, 11, 9), "unexcused")
        mark(p, MONDAY, "unexcused")
    return _of(people)


@pytest.mark.parametrize("size", [2, 8])
def test_each_rule_runs_a_fixed_number_of_queries(
    django_assert_max_num_queries, member, mark, size
):
    patients = _caseload(member, mark, size)
    with django_assert_max_num_queries(3):
        assert len(unexcused_streak(patients, TODAY)) == size
    with django_assert_max_num_queries(9):
        assert len(weekly_hours_short(patients, TODAY)) == 2 * size
    with django_assert_max_num_queries(1):
        assert len(no_contact(patients, TODAY)) == size
    # Registered with the rest of the queue (other apps' rules are pinned by their tests).
    collect_alerts(patients, TODAY)
    assert {unexcused_streak, weekly_hours_short, no_contact} <= set(RULES)
