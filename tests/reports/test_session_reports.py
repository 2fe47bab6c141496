from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from scheduling.models import Session
from scheduling.services.attendance import attendance_record
from scheduling.services.materialization import sessions_materialize
from scheduling.services.series import series_create
from tests.conftest import SCENARIO_NOW

# Written for the suite's scenario instant (tests/conftest.py).
pytestmark = pytest.mark.frozen(SCENARIO_NOW)

NY = ZoneInfo("America/New_York")
PERIOD = {"start": "2026-11-02", "end": "2026-11-15"}


@pytest.fixture
def marked_week(make_patient, track, counselor):
    """Two evening patients; for every session of Nov 9-13 one attends 3 h, one no-shows."""
    here = make_patient(first="Ada", track=track, admitted=date(2026, 9, 1))
    away = make_patient(first="Bo", track=track, admitted=date(2026, 9, 1))
    series_create(
        actor=counselor,
        track=track,
        weekdays=["MO", "TU", "TH"],
        start_time=time(18),
        end_time=time(21),
        starts_on=date(2026, 9, 1),
        topic="Relapse prevention",
        kind="relapse_prevention",
        now=datetime(2026, 9, 1, 8, tzinfo=NY),
    )
    now = datetime(2026, 11, 14, 9, tzinfo=NY)
    sessions_materialize(site=track.site, now=now, first=date(2026, 11, 9))
    sessions = Session.objects.filter(
        track=track, local_date__range=(date(2026, 11, 9), date(2026, 11, 13))
    )
    for session in sessions:
        for patient, status in ((here, "present"), (away, "unexcused")):
            attendance_record(
                actor=counselor,
                session=session,
                patient=patient,
                status=status,
                reason="Entered from the paper sign-in sheet",
                now=now,
            )
    return sessions.count()


def _rows(client, slug):
    response = client.get(reverse("reports:detail", args=[slug]), PERIOD)
    assert response.status_code == 200
    return response.context["result"].rows


def test_attendance_rate_by_track(client, director, marked_week):
    client.force_login(director)
    [row] = _rows(client, "attendance")
    assert row[1] == "IOP Evening"
    assert row[2:] == [2 * marked_week, marked_week, marked_week, 50.0]


def test_weekly_hours_against_the_minimum(client, director, marked_week):
    client.force_login(director)
    rows = {r[0]: r for r in _rows(client, "hours")}
    week = rows["2026-11-09"]
    # Ada 9 h, Bo 0 h: average 4.5 h; only Bo is below the 9 h minimum.
    assert week[1:] == ["IOP", 2, 4.5, 9.0, 1]


def test_billing_days_count_days_of_three_hours(client, director, marked_week):
    client.force_login(director)
    assert _rows(client, "billing") == [["2026-11", marked_week, marked_week]]


def test_positivity_report_renders_with_no_tests(client, director, db):
    client.force_login(director)
    response = client.get(reverse("reports:detail", args=["positivity"]), PERIOD)
    assert response.status_code == 200
