"""Session expiry in a real browser: an htmx action after the idle timeout lands on the
login page (not inside the attendance row), and the warning before the log-off offers to
stay signed in. The server's clock is the suite's frozen one, moved on with time-machine;
the browser's is Playwright's fake clock."""

from __future__ import annotations

import re
from datetime import time as clock_time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.conf import settings
from django.contrib.sessions.models import Session as DjangoSession
from django.utils import timezone
from playwright.sync_api import expect

from tests.a11y import assert_accessible
from tests.conftest import save_screen

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def open_group(track, make_patient):
    """An evening group that started an hour ago (site-local), one patient on it."""
    from core.clock import local_datetime
    from scheduling.models import Session

    robin = make_patient(first="Robin", last="Evening", track=track)
    tz = track.site.tz
    now = timezone.now()
    start = now - timedelta(hours=1)
    day = start.astimezone(tz).date()
    session = Session.objects.create(
        site=track.site,
        track=track,
        local_date=day,
        starts_at=local_datetime(day, clock_time(18), tz),
        ends_at=local_datetime(day, clock_time(21), tz),
        kind="group",
        facilitator=track.default_facilitator,
        room=track.room,
        capacity=track.capacity,
        created_at=now - timedelta(days=60),
    )
    Session.objects.filter(pk=session.pk).update(
        starts_at=start, ends_at=start + timedelta(hours=3), local_date=day
    )
    return session, robin


def _idle_past_the_limit():
    return time_machine.travel(
        timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE + 5), tick=True
    )


def test_htmx_action_after_idle_timeout_lands_on_the_login_page(
    page, live_server, login, counselor, open_group
):
    session, robin = open_group
    login(page, "counselor")
    page_path = f"/scheduling/sessions/{session.pk}/"
    page.goto(live_server.url + page_path)
    row = page.get_by_test_id(f"attendee-{robin.pk}")
    row.get_by_label("Status").select_option("present")
    with _idle_past_the_limit():
        row.get_by_role("button", name="Save").click()
        page.wait_for_url(re.compile(r"/accounts/login/"))
    # The whole page is the login page, and it returns to the attendance screen.
    assert parse_qs(urlsplit(page.url).query)["next"] == [page_path]
    expect(page.get_by_label("Username")).to_be_visible()
    expect(page.get_by_test_id(f"attendee-{robin.pk}")).to_have_count(0)
    assert not session.attendance.exists()
    save_screen(page, "session_expired_htmx")


def test_warning_before_the_log_off_and_stay_signed_in_renews(page, live_server, login, counselor):
    page.clock.install()
    login(page, "counselor")
    warning = page.get_by_test_id("session-warning")
    expect(warning).to_be_hidden()
    # The browser idles until 100 seconds are left; the server's session row, too, has
    # only those left (its clock is frozen, so the row is aged by hand).
    page.clock.run_for((settings.SESSION_COOKIE_AGE - 100) * 1000)
    DjangoSession.objects.update(expire_date=timezone.now() + timedelta(seconds=100))
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("you will be logged out in 1:")
    expect(page.get_by_role("button", name="Stay signed in")).to_be_focused()
    assert_accessible(page, live_server.url)
    save_screen(page, "session_warning")

    with page.expect_response(re.compile(r"/privacy/session/renew/")) as renewed:
        page.get_by_role("button", name="Stay signed in").click()
    assert renewed.value.json()["seconds_left"] == settings.SESSION_COOKIE_AGE
    expect(warning).to_be_hidden()
    assert DjangoSession.objects.get().expire_date > timezone.now() + timedelta(
        seconds=settings.SESSION_COOKIE_AGE - 30
    )


def test_when_the_time_passes_the_page_goes_to_the_login_page(page, live_server, login, counselor):
    page.clock.install()
    login(page, "counselor")
    page.goto(f"{live_server.url}/scheduling/my-sessions/")
    path = urlsplit(page.url).path
    with _idle_past_the_limit():
        page.clock.run_for((settings.SESSION_COOKIE_AGE + 5) * 1000)
        page.wait_for_url(re.compile(r"/accounts/login/"))
    assert parse_qs(urlsplit(page.url).query)["next"] == [path]
    expect(page.get_by_label("Username")).to_be_visible()
