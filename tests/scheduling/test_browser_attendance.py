"""Main flow in a real browser: a facilitator takes attendance for an evening group and
the patient's weekly hours update on the chart."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.conftest import save_screen

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NY = ZoneInfo("America/New_York")


def test_facilitator_takes_attendance_and_chart_hours_update(
    page, live_server, login, counselor, track, make_patient, make_session
):
    robin = make_patient(first="Robin", last="Evening", track=track)
    kim = make_patient(first="Kim", last="Evening", track=track)
    # A group of the evening track that started an hour ago (today, site-local).
    now = timezone.now()
    midnight = now.astimezone(NY).replace(hour=0, minute=0, second=0, microsecond=0)
    start = max(now - timedelta(hours=1), midnight).astimezone(NY)
    session = make_session(track, start.date())
    type(session).objects.filter(pk=session.pk).update(
        starts_at=start, ends_at=start + timedelta(hours=3), local_date=start.date()
    )

    login(page, "counselor")
    page.goto(f"{live_server.url}/patients/{robin.pk}/")
    assert "0.0 h attended" in page.get_by_test_id("week-hours").inner_text()

    page.get_by_role("link", name="My sessions").click()
    page.get_by_role("link", name="IOP Evening").click()
    expect(page.get_by_test_id("attendance-heading")).to_be_visible()
    row = page.get_by_test_id(f"attendee-{robin.pk}")
    row.get_by_label("Status").select_option("present")
    row.get_by_label("Participation note").fill("Shared a relapse prevention plan.")
    row.get_by_role("button", name="Save").click()
    # htmx swaps the row in place with the credited minutes.
    page.get_by_test_id(f"attendee-{robin.pk}").get_by_text("Present · 180 min").wait_for()
    kim_row = page.get_by_test_id(f"attendee-{kim.pk}")
    kim_row.get_by_label("Status").select_option("unexcused")
    kim_row.get_by_role("button", name="Save").click()
    page.get_by_test_id(f"attendee-{kim.pk}").get_by_text("Unexcused absence · 0 min").wait_for()
    assert page.get_by_test_id("progress").inner_text().startswith("2 of 2 marked")
    save_screen(page, "scheduling_attendance")

    page.goto(f"{live_server.url}/patients/{robin.pk}/")
    hours = page.get_by_test_id("week-hours").inner_text()
    assert "3.0 h attended" in hours
    assert "minimum 9.0 h" in hours
    save_screen(page, "scheduling_chart_hours")
