"""Panels on the chart, the staff home and the portal home: content and fixed queries."""

from datetime import time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import RequestFactory
from django.utils import timezone

from scheduling import panels
from scheduling.services.attendance import attendance_add_guest, attendance_record

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")


def _request(user):
    request = RequestFactory().get("/")
    request.user = user
    return request


@pytest.fixture
def recent_and_upcoming(track, make_session):
    today = timezone.localdate(timezone.now(), NY)
    return [make_session(track, today + timedelta(days=d)) for d in (-3, -2, -1, 1, 2, 3)]


@pytest.mark.parametrize("sessions_marked", [1, 3])
def test_chart_panel_runs_fixed_queries(
    counselor,
    make_patient,
    track,
    recent_and_upcoming,
    django_assert_max_num_queries,
    sessions_marked,
):
    p = make_patient(track=track)
    for s in recent_and_upcoming[:sessions_marked]:
        attendance_record(actor=None, session=s, patient=p, status="present", reason="catch-up")
    p = type(p).objects.select_related("site").get(pk=p.pk)
    with django_assert_max_num_queries(7):
        panel = panels.chart(_request(counselor), p)
    assert len(panel.context["recent"]) == sessions_marked
    assert len(panel.context["upcoming"]) == 3


@pytest.mark.parametrize("roster", [1, 6])
def test_staff_home_panel_runs_fixed_queries(
    counselor, site, make_patient, track, make_session, django_assert_max_num_queries, roster
):
    today = timezone.localdate(timezone.now(), NY)
    make_session(track, today)
    for _ in range(roster):
        make_patient(track=track)
    # The day's sessions, their roster rows, their attendance (selectors.rosters.
    # roster_counts: no patient read).
    with django_assert_max_num_queries(3):
        panel = panels.staff_home(_request(counselor), [site])
    assert panel.context["entries"][0]["roster"] == roster


def test_portal_home_panel_shows_the_next_session(patient, make_patient, track, make_session):
    member = make_patient(track=track, portal=True)
    tomorrow = timezone.localdate(timezone.now(), NY) + timedelta(days=1)
    session = make_session(track, tomorrow)
    panel = panels.portal_home(_request(member.user), member)
    assert panel.context["next"] == session
    assert panels.portal_home(_request(patient.user), patient).context["next"] is None


def test_chart_page_shows_this_weeks_hours(client, counselor, make_patient, track, make_session):
    p = make_patient(track=track)
    now = timezone.now()
    start = max(now - timedelta(hours=1), now.astimezone(NY).replace(hour=0, minute=0))
    session = make_session(track, start.astimezone(NY).date())
    type(session).objects.filter(pk=session.pk).update(
        starts_at=start, ends_at=start + timedelta(hours=3)
    )
    session.refresh_from_db()
    attendance_record(actor=counselor, session=session, patient=p, status="present")
    client.force_login(counselor)
    response = client.get(f"/patients/{p.pk}/")
    assert response.status_code == 200
    assert "3.0 h attended" in response.content.decode()


def test_staff_home_counts_each_roster_as_the_attendance_sheet_does(
    counselor, site, make_patient, track, day_track, make_session
):
    """The home counts rosters without reading the patients (selectors.rosters.
    roster_counts): the same people as the sheet's roster, make-ups marked included."""
    from scheduling.selectors.rosters import rosters_for_sessions

    today = timezone.localdate(timezone.now(), NY)
    group = make_session(track, today, start=time(0, 5), end=time(0, 10))  # marks are open
    members = [make_patient(track=track) for _ in range(3)]
    visitor = make_patient(track=day_track)
    attendance_record(actor=None, session=group, patient=members[0], status="present", reason="x")
    attendance_add_guest(actor=None, session=group, patient=visitor, reason="x")
    alone = make_patient()
    individual = make_session(None, today, kind="individual", patient=alone)
    panel = panels.staff_home(_request(counselor), [site])
    counted = {e["session"].pk: (e["roster"], e["marked"]) for e in panel.context["entries"]}
    assert counted == {group.pk: (4, 2), individual.pk: (1, 0)}
    sheets = rosters_for_sessions([group, individual])
    assert {pk: len(people) for pk, people in sheets.items()} == {group.pk: 4, individual.pk: 1}
