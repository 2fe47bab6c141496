"""Weekly meeting requirement arithmetic: weeks start Monday in the site's time zone."""

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from core.clock import local_week_of, week_bounds, week_start
from patients.compliance import ComplianceStatus
from recovery.compliance import (
    required_in_week,
    requirement_for,
    week_compliance,
)
from recovery.models import Meeting, MeetingRequirement, MeetingStatus
from tests.conftest import SCENARIO_NOW

# Written for the suite's scenario instant (tests/conftest.py).
pytestmark = pytest.mark.frozen(SCENARIO_NOW)

NY = ZoneInfo("America/New_York")
LA = ZoneInfo("America/Los_Angeles")


def _m(at, status=MeetingStatus.VERIFIED, fellowship="aa"):
    return SimpleNamespace(held_at=at, status=status, fellowship=fellowship)


def _req(n=3, fellowships=()):
    return MeetingRequirement(meetings_per_week=n, fellowships=list(fellowships))


def _week(monday, meetings, req=None, admitted=date(2026, 1, 1), today=date(2026, 12, 31)):
    return week_compliance(
        monday=monday,
        meetings=meetings,
        tz=NY,
        requirement=req if req is not None else _req(),
        admitted=admitted,
        discharged=None,
        today=today,
    )


def test_week_starts_on_monday():
    assert week_start(date(2026, 11, 22)) == date(2026, 11, 16)  # Sunday -> previous Monday
    assert week_start(date(2026, 11, 23)) == date(2026, 11, 23)  # Monday -> itself


def test_week_containing_the_fall_dst_change_lasts_169_hours():
    start, end = week_bounds(date(2026, 10, 26), NY)  # DST ends Sun Nov 1, 2026
    assert (end.astimezone(UTC) - start.astimezone(UTC)) == timedelta(hours=169)


def test_week_containing_the_spring_dst_change_lasts_167_hours():
    start, end = week_bounds(date(2026, 3, 2), NY)  # DST starts Sun Mar 8, 2026
    assert (end.astimezone(UTC) - start.astimezone(UTC)) == timedelta(hours=167)


def test_late_sunday_meeting_after_fall_dst_change_counts_in_that_week():
    # Sun Nov 1 23:30 EST is Nov 2 04:30 UTC: a week of 168 h from Mon 00:00 EDT
    # would already have ended at 23:00 EST and put this meeting in the next week.
    late_sunday = datetime(2026, 11, 1, 23, 30, tzinfo=NY)
    ended_week = _week(date(2026, 10, 26), [_m(late_sunday)])
    next_week = _week(date(2026, 11, 2), [_m(late_sunday)])
    assert (ended_week.verified, next_week.verified) == (1, 0)
    assert local_week_of(late_sunday.astimezone(UTC), NY) == date(2026, 10, 26)


def test_early_monday_meeting_after_spring_dst_change_counts_in_the_new_week():
    # Mon Mar 9 00:30 EDT is 04:30 UTC, before Mon Mar 2 00:00 EST + 168 h (05:00 UTC).
    early_monday = datetime(2026, 3, 9, 0, 30, tzinfo=NY)
    assert _week(date(2026, 3, 2), [_m(early_monday)]).verified == 0
    assert _week(date(2026, 3, 9), [_m(early_monday)]).verified == 1


def test_week_boundary_is_local_midnight_between_sunday_and_monday():
    sunday = datetime(2026, 11, 22, 23, 59, tzinfo=NY)
    monday = datetime(2026, 11, 23, 0, 0, tzinfo=NY)
    week = _week(date(2026, 11, 16), [_m(sunday), _m(monday)])
    assert week.verified == 1


def test_the_same_instant_falls_in_different_weeks_at_sites_in_different_zones():
    # Monday 02:00 UTC is Sunday evening in Los Angeles and Sunday night in New York.
    instant = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    assert local_week_of(instant, NY) == date(2026, 11, 16)
    assert local_week_of(datetime(2026, 11, 23, 6, 0, tzinfo=UTC), NY) == date(2026, 11, 23)
    assert local_week_of(datetime(2026, 11, 23, 6, 0, tzinfo=UTC), LA) == date(2026, 11, 16)


def test_only_verified_meetings_count_and_pending_are_shown_apart():
    at = datetime(2026, 11, 17, 19, tzinfo=NY)
    week = _week(
        date(2026, 11, 16),
        [_m(at), _m(at, MeetingStatus.PENDING), _m(at, MeetingStatus.REJECTED)],
    )
    assert (week.required, week.logged, week.verified, week.pending, week.rejected) == (
        3,
        2,
        1,
        1,
        1,
    )
    assert week.still_needed == 2


def test_meetings_of_a_fellowship_that_does_not_count_are_left_out():
    at = datetime(2026, 11, 17, 19, tzinfo=NY)
    week = _week(
        date(2026, 11, 16), [_m(at, fellowship="aa"), _m(at, fellowship="smart")], _req(2, ["aa"])
    )
    assert (week.verified, week.not_counted) == (1, 1)


@pytest.mark.parametrize(
    ("statuses", "today", "expected"),
    [
        ([MeetingStatus.VERIFIED] * 3, date(2026, 11, 18), ComplianceStatus.MET),
        ([MeetingStatus.VERIFIED, MeetingStatus.PENDING, MeetingStatus.PENDING],
         date(2026, 11, 30), ComplianceStatus.AWAITING),
        ([MeetingStatus.VERIFIED], date(2026, 11, 22), ComplianceStatus.IN_PROGRESS),
        ([MeetingStatus.VERIFIED], date(2026, 11, 23), ComplianceStatus.SHORT),
    ],
)  # fmt: skip
def test_week_status(statuses, today, expected):
    at = datetime(2026, 11, 17, 19, tzinfo=NY)
    week = _week(date(2026, 11, 16), [_m(at, s) for s in statuses], today=today)
    assert week.status == expected


def test_no_requirement_means_not_required():
    week = _week(date(2026, 11, 16), [], _req(0))
    assert (week.required, week.status) == (0, ComplianceStatus.NOT_REQUIRED)


@pytest.mark.parametrize(
    ("admitted", "discharged", "expected"),
    [
        (date(2026, 11, 1), None, 3),  # whole week enrolled
        (date(2026, 11, 19), None, 2),  # admitted Thursday: 4 of 7 days -> ceil(12/7)
        (date(2026, 11, 22), None, 1),  # admitted Sunday: 1 day -> ceil(3/7)
        (date(2026, 11, 23), None, 0),  # admitted the next Monday
        (date(2026, 10, 1), date(2026, 11, 17), 1),  # discharged Tuesday: 2 days
        (date(2026, 10, 1), date(2026, 11, 15), 0),  # discharged the Sunday before
    ],
)
def test_required_meetings_are_pro_rata_to_days_enrolled(admitted, discharged, expected):
    assert required_in_week(3, date(2026, 11, 16), admitted, discharged) == expected


def test_phase_requirement_overrides_the_site_default():
    default = MeetingRequirement(phase_id=None, meetings_per_week=2)
    phase2 = MeetingRequirement(phase_id=7, meetings_per_week=5)
    assert requirement_for([default, phase2], 7) is phase2
    assert requirement_for([phase2, default], 8) is default
    assert requirement_for([phase2], None) is None


# --- through the database, with the patient's site and phase --------------------


def test_compliance_weeks_uses_the_patients_phase_and_site_zone(
    make_patient, phases, requirement, counselor
):
    from recovery.selectors import compliance_weeks

    MeetingRequirement.objects.create(site=requirement.site, phase=phases[1], meetings_per_week=5)
    patient = make_patient(phase=phases[1], admitted=date(2026, 9, 1))
    now = datetime(2026, 11, 19, 12, tzinfo=NY)
    for day, status in [(16, "verified"), (17, "pending"), (15, "verified")]:
        Meeting.objects.create(
            patient=patient,
            site=patient.site,
            held_at=datetime(2026, 11, day, 19, tzinfo=NY),
            fellowship="na",
            name="Hope group",
            mode="online",
            status=status,
            logged_by=counselor,
            logged_at=now,
            reviewed_by=None if status == "pending" else counselor,
            reviewed_at=None if status == "pending" else now,
        )
    this_week, last_week = compliance_weeks(patient, weeks=2, now=now)
    assert (this_week.week_start, this_week.required) == (date(2026, 11, 16), 5)
    assert (this_week.verified, this_week.pending) == (1, 1)
    assert this_week.status == ComplianceStatus.IN_PROGRESS
    assert (last_week.verified, last_week.status) == (1, ComplianceStatus.SHORT)


def test_caseload_compliance_lists_only_visible_open_patients(
    make_patient, requirement, counselor, other_site, outside_counselor
):
    from recovery.selectors import caseload_compliance

    mine = make_patient(admitted=date(2026, 9, 1))
    make_patient(admitted=date(2026, 9, 1), at_site=other_site, counselor_user=outside_counselor)
    now = datetime(2026, 11, 23, 12, tzinfo=NY)  # the Monday after the week
    Meeting.objects.create(
        patient=mine,
        site=mine.site,
        held_at=datetime(2026, 11, 22, 23, 30, tzinfo=NY),  # Sunday night: still that week
        fellowship="aa",
        name="Late group",
        mode="online",
        status="verified",
        logged_by=counselor,
        logged_at=now,
        reviewed_by=counselor,
        reviewed_at=now,
    )
    (row,) = caseload_compliance(counselor, date(2026, 11, 16), now=now)
    assert row.patient == mine
    assert (row.week.required, row.week.verified, row.week.status) == (
        3,
        1,
        ComplianceStatus.SHORT,
    )
