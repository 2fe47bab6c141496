"""Each site's holiday calendar: seeded from its country's and state's public holidays,
topped up without bringing back a day the director removed, kept by the series, and a
holiday added later cancels that day's sessions through the cancellation service."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEvent
from scheduling import tasks
from scheduling.models import Holiday, HolidayStatus, Session, SessionStatus
from scheduling.services.materialization import sessions_materialize
from scheduling.services.series import series_create
from scheduling.services.site_holidays import holiday_add, holiday_remove, holidays_seed
from tests.conftest import SCENARIO_NOW

from .conftest import NOW, NY

pytestmark = pytest.mark.django_db


def thanksgiving(year: int) -> date:
    first = date(year, 11, 1)
    return first + timedelta(days=(3 - first.weekday()) % 7 + 21)


def _closed(site):
    return Holiday.objects.filter(site=site, status=HolidayStatus.CLOSED)


# --- seeding -------------------------------------------------------------------


@pytest.mark.date_sensitive
def test_a_new_site_starts_with_its_states_public_holidays(site, other_site, test_now):
    year = test_now.astimezone(NY).year
    for y in (year, year + 1, year + 2):
        holiday = _closed(site).get(date=thanksgiving(y))
        assert holiday.name.startswith("Thanksgiving")
    assert not Holiday.objects.filter(site=site, date__year=year + 3).exists()
    # The state counts: Lincoln's Birthday is a New York holiday, not a California one.
    assert _closed(site).filter(date=date(year + 1, 2, 12)).exists()
    assert not Holiday.objects.filter(site=other_site, date=date(year + 1, 2, 12)).exists()
    assert _closed(other_site).filter(date=thanksgiving(year + 1)).exists()
    assert AuditEvent.objects.filter(action="holiday.seeded", site_id=site.pk).count() == 1


@pytest.mark.date_sensitive
def test_seeding_twice_adds_nothing(site, test_now):
    rows = Holiday.objects.filter(site=site).count()
    audits = AuditEvent.objects.count()
    assert holidays_seed(site=site, now=test_now) == 0
    assert tasks.top_up_holidays() == 0
    assert Holiday.objects.filter(site=site).count() == rows
    assert AuditEvent.objects.count() == audits


@pytest.mark.date_sensitive
def test_a_removed_day_is_not_re_added_by_the_top_up(site, director, test_now):
    year = test_now.astimezone(NY).year
    veterans = Holiday.objects.get(site=site, date=date(year + 1, 11, 11))
    holiday_remove(actor=director, holiday=veterans, now=test_now)
    assert tasks.top_up_holidays() == 0
    # A year on, the top-up seeds one more year and still leaves the removed day open.
    a_year_on = test_now + timedelta(days=366)
    assert holidays_seed(site=site, now=a_year_on) > 0
    veterans.refresh_from_db()
    assert veterans.status == HolidayStatus.OPEN
    assert Holiday.objects.filter(site=site, date=veterans.date).count() == 1
    assert AuditEvent.objects.filter(action="holiday.removed", object_id=str(veterans.pk)).exists()


# --- series ----------------------------------------------------------------------


# Built on the scheduling scenario (series from Sep 1 2026, tests/scheduling/conftest.py).
@pytest.mark.frozen(SCENARIO_NOW)
def test_series_skip_the_seeded_holidays(site, evening_series, track):
    # Thanksgiving 2026 is a Thursday, an evening-track day; the session is not held.
    day = date(2026, 11, 26)
    assert Holiday.objects.filter(site=site, date=day, status=HolidayStatus.CLOSED).exists()
    session = Session.objects.get(series=evening_series, occurrence_date=day)
    assert session.status == SessionStatus.CANCELLED
    assert session.status_reason == "Holiday: Thanksgiving Day"
    assert not Session.objects.filter(
        site=site, local_date=day, status=SessionStatus.SCHEDULED
    ).exists()


# Built on the scheduling scenario (series from Sep 1 2026, tests/scheduling/conftest.py).
@pytest.mark.frozen(SCENARIO_NOW)
def test_a_removed_holiday_is_not_skipped_by_later_sessions(site, director, track, counselor):
    # Columbus Day 2027 (Mon Oct 11): the clinic stays open, so the series meets.
    day = date(2027, 10, 11)
    columbus = Holiday.objects.get(site=site, date=day)
    holiday_remove(actor=director, holiday=columbus, now=NOW)
    series = series_create(
        actor=counselor,
        track=track,
        weekdays=["MO"],
        start_time=time(18),
        end_time=time(21),
        starts_on=day - timedelta(days=7),
        now=NOW,
    )
    sessions_materialize(site=site, now=datetime(2027, 10, 1, 9, tzinfo=NY))
    session = Session.objects.get(series=series, occurrence_date=day)
    assert session.status == SessionStatus.SCHEDULED


# --- a holiday added later ----------------------------------------------------------


@pytest.fixture
def inline_tasks(monkeypatch):
    """Planning tasks run in-process when the write commits (instead of on the broker)."""
    from notifications import receivers
    from notifications import tasks as notification_tasks

    published = []

    def run(name, *args):
        published.append((name, *args))
        getattr(notification_tasks, name)(*args)

    monkeypatch.setattr(receivers, "_publish", run)
    return published


# Built on the scheduling scenario (series from Sep 1 2026, tests/scheduling/conftest.py).
@pytest.mark.frozen(SCENARIO_NOW)
def test_adding_a_holiday_cancels_that_days_sessions_and_tells_the_patients(
    site,
    director,
    evening_series,
    track,
    make_patient,
    inline_tasks,
    django_capture_on_commit_callbacks,
):
    from notifications.models import Kind, Notification, Status
    from notifications.sources.sessions import plan_sessions

    ada = make_patient(first="Ada", track=track, portal=True)
    bo = make_patient(first="Bo", track=track, portal=True)
    day = date(2026, 11, 24)  # a Tuesday of the evening track, not a public holiday
    session = Session.objects.get(series=evening_series, occurrence_date=day)
    plan_sessions([session.pk], now=NOW)
    reminders = Notification.objects.filter(
        kind=Kind.SESSION_REMINDER, object_id=session.pk, patient__in=[ada, bo]
    )
    assert {n.patient_id for n in reminders.filter(status=Status.PENDING)} == {ada.pk, bo.pk}

    with django_capture_on_commit_callbacks(execute=True):
        holiday_add(actor=director, site=site, day=day, name="Staff retreat", now=NOW)

    session.refresh_from_db()
    assert session.status == SessionStatus.CANCELLED
    assert session.status_reason == "Holiday: Staff retreat"
    # Through the cancellation service: its audit row, and the notifications re-plan.
    assert AuditEvent.objects.filter(action="session.cancelled", object_id=str(session.pk)).exists()
    assert ("plan_session", session.pk) in inline_tasks
    for patient in (ada, bo):
        mine = reminders.filter(patient=patient)
        assert not mine.filter(status=Status.PENDING).exists()
        assert mine.filter(status=Status.CANCELLED).exists()
    # And each patient is told: a cancellation notice, due now, in the portal.
    assert ("plan_session_cancelled", session.pk) in inline_tasks
    notices = Notification.objects.filter(
        kind=Kind.SESSION_CANCELLED, object_id=session.pk, status=Status.PENDING
    )
    assert {(n.patient_id, n.channel) for n in notices} == {
        (ada.pk, "in_app"),
        (bo.pk, "in_app"),
    }
    assert all(n.deliver_after <= timezone.now() for n in notices)

    # Removing the holiday does not bring the session back.
    holiday_remove(actor=director, holiday=Holiday.objects.get(site=site, date=day))
    session.refresh_from_db()
    assert session.status == SessionStatus.CANCELLED


# --- the director's screen -----------------------------------------------------------


def _url(site, **query):
    params = "&".join(f"{k}={v}" for k, v in {"site": site.pk, **query}.items())
    return f"{reverse('scheduling:holidays')}?{params}"


def test_director_lists_adds_removes_and_restores_holidays(client, director, site, today):
    client.force_login(director)
    year = today.year + 1
    page = client.get(_url(site, year=year))
    assert page.status_code == 200
    assert "Thanksgiving Day" in page.content.decode()

    day = date(year, 8, 14)
    response = client.post(_url(site, year=year), {"date": day.isoformat(), "name": "Staff day"})
    assert response.status_code == 302
    added = Holiday.objects.get(site=site, date=day)
    assert (added.name, added.status) == ("Staff day", HolidayStatus.CLOSED)
    assert AuditEvent.objects.filter(
        action="holiday.added", actor=director, object_id=str(added.pk)
    ).exists()

    veterans = Holiday.objects.get(site=site, date=date(year, 11, 11))
    change = reverse("scheduling:holiday_change") + f"?site={site.pk}"
    response = client.post(change, {"holiday": veterans.pk, "action": "remove"})
    assert response.status_code == 302
    veterans.refresh_from_db()
    assert veterans.status == HolidayStatus.OPEN
    assert AuditEvent.objects.filter(
        action="holiday.removed", actor=director, object_id=str(veterans.pk)
    ).exists()

    response = client.post(change, {"holiday": veterans.pk, "action": "restore"})
    assert response.status_code == 302
    veterans.refresh_from_db()
    assert veterans.status == HolidayStatus.CLOSED
    assert AuditEvent.objects.filter(
        action="holiday.restored", actor=director, object_id=str(veterans.pk)
    ).exists()


def test_the_add_form_bounds_the_date_and_the_name(client, director, site, today):
    client.force_login(director)
    rows = Holiday.objects.count()
    for data in (
        {"date": (today - timedelta(days=1)).isoformat(), "name": "Yesterday"},
        {"date": date(today.year + 5, 6, 1).isoformat(), "name": "Far off"},
        {"date": (today + timedelta(days=30)).isoformat(), "name": "x" * 81},
        {"date": (today + timedelta(days=30)).isoformat(), "name": "   "},
    ):
        response = client.post(_url(site), data)
        assert response.status_code == 422, data
    assert Holiday.objects.count() == rows


@pytest.mark.parametrize("who", ["counselor", "frontdesk", "outside_counselor"])
def test_other_staff_cannot_change_holidays(client, request, site, who, today):
    client.force_login(request.getfixturevalue(who))
    veterans = Holiday.objects.get(site=site, date=date(today.year + 1, 11, 11))
    assert client.get(_url(site)).status_code == 403
    day = today + timedelta(days=40)
    response = client.post(_url(site), {"date": day.isoformat(), "name": "Mine"})
    assert response.status_code == 403
    change = reverse("scheduling:holiday_change") + f"?site={site.pk}"
    assert client.post(change, {"holiday": veterans.pk, "action": "remove"}).status_code == 403
    veterans.refresh_from_db()
    assert veterans.status == HolidayStatus.CLOSED
    assert not Holiday.objects.filter(site=site, date=day).exists()


def test_a_patient_gets_404_on_the_holiday_screen(client, patient, site):
    client.force_login(patient.user)
    assert client.get(_url(site)).status_code == 404


def test_a_director_of_another_organisation_gets_404(client, site, today, django_user_model):
    from core.models import Organization, Site, StaffProfile

    org = Organization.objects.create(name="Elsewhere", mrn_prefix="EL")
    Site.objects.create(organization=org, name="Far", code="far", time_zone="America/Chicago")
    user = django_user_model.objects.create_user(username="far_director", password="x" * 16)
    StaffProfile.objects.create(user=user, organization=org, role="director")
    client.force_login(user)
    assert client.get(_url(site)).status_code == 404
    veterans = Holiday.objects.get(site=site, date=date(today.year + 1, 11, 11))
    change = reverse("scheduling:holiday_change") + f"?site={site.pk}"
    assert client.post(change, {"holiday": veterans.pk, "action": "remove"}).status_code == 404
    veterans.refresh_from_db()
    assert veterans.status == HolidayStatus.CLOSED


def test_the_calendar_links_the_director_to_the_holidays(client, director, counselor, site):
    client.force_login(director)
    assert (
        reverse("scheduling:holidays")
        in client.get(reverse("scheduling:calendar")).content.decode()
    )
    client.force_login(counselor)
    assert (
        reverse("scheduling:holidays")
        not in client.get(reverse("scheduling:calendar")).content.decode()
    )


# --- the demo ------------------------------------------------------------------------------


def test_the_demo_holds_no_session_on_a_holiday(test_now):
    from core.demo import seed_core
    from patients import demo as patients_demo
    from scheduling import demo

    ctx = seed_core("demo-password-for-tests", test_now)
    patients_demo.seed_setup(ctx)
    demo.seed_setup(ctx)
    patients_demo.seed(ctx)
    demo.seed(ctx)
    for site in ctx.sites.values():
        closed = set(_closed(site).values_list("date", flat=True))
        assert thanksgiving(ctx.today.year) in closed
        sessions = Session.objects.filter(site=site, local_date__in=closed)
        assert not sessions.filter(status=SessionStatus.SCHEDULED).exists()
        assert not sessions.filter(attendance__isnull=False).exists()
        # The history's first week may reach into last year: its holidays are known too.
        first = min(Session.objects.filter(site=site).values_list("local_date", flat=True))
        assert _closed(site).filter(date__year=first.year).exists()
