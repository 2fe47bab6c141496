"""A day in the life of the clinic, in a real browser: front desk checks in the evening
group, the counselor works the alert queue, the director reads two reports and exports
one, and a patient on a phone checks the schedule and hands in homework. Every page is
screenshotted (var/screens/) and checked with axe-core."""

from __future__ import annotations

from datetime import date, time, timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.a11y import assert_accessible
from tests.conftest import SCENARIO_NOW, save_screen

pytestmark = [
    pytest.mark.frozen(SCENARIO_NOW),  # the scenario instant (tests/conftest.py)
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def clinic(make_patient, track, counselor, nurse):
    """An evening group that meets every weekday evening (the last one at most three
    days ago, inside the attendance edit window), two patients on it, one of
    them due an injection, and homework waiting for the other."""
    from patients.services.medication import medication_order_create
    from recovery.services.homework import homework_assign, homework_template_create
    from scheduling.models import Session
    from scheduling.services.materialization import sessions_materialize
    from scheduling.services.series import series_create

    now = timezone.now()
    admitted = date(2026, 9, 1)
    first = make_patient(first="Avery", last="Evening", track=track, admitted=admitted, portal=True)
    second = make_patient(first="Blake", last="Evening", track=track, admitted=admitted)
    series_create(
        actor=counselor,
        track=track,
        weekdays=["MO", "TU", "WE", "TH", "FR"],
        start_time=time(18),
        end_time=time(21),
        starts_on=timezone.localdate(now, track.site.tz) - timedelta(days=7),
        topic="Relapse prevention",
        kind="relapse_prevention",
        now=now - timedelta(days=7),
    )
    sessions_materialize(
        site=track.site, now=now, first=timezone.localdate(now, track.site.tz) - timedelta(days=7)
    )
    session = Session.objects.filter(track=track, ends_at__lt=now).order_by("-starts_at").first()
    order = medication_order_create(
        actor=nurse,
        patient=second,
        medication="naltrexone_xr",
        dose="380 mg",
        frequency="monthly",
        prescriber="Dr. Adler",
        start_date=admitted,
        next_injection_due=timezone.localdate(now, track.site.tz) + timedelta(days=1),
    )
    template = homework_template_create(
        actor=counselor,
        site=track.site,
        title="Triggers and cravings log",
        instructions="List three triggers from this week and what you did.",
    )
    homework_assign(
        actor=counselor,
        patient=first,
        template=template,
        due_date=timezone.localdate(now, track.site.tz) + timedelta(days=7),
    )
    return {"session": session, "first": first, "second": second, "order": order}


def test_front_desk_checks_in_the_evening_group(page, login, live_server, make_staff, clinic):
    make_staff("desk", "frontdesk")
    login(page, "desk")
    page.goto(f"{live_server.url}/scheduling/sessions/{clinic['session'].pk}/")
    assert_accessible(page, live_server.url)
    page.get_by_test_id("all-present").click()
    assert "2</strong> of 2 marked" in page.get_by_test_id("progress").inner_html()
    save_screen(page, "day_frontdesk_attendance")
    assert clinic["session"].attendance.filter(status="present").count() == 2


def test_counselor_works_the_alert_queue(page, login, live_server, clinic):
    login(page, "counselor")
    queue = page.get_by_test_id("alert-queue")
    assert "Blake Evening" in queue.inner_text() and "injection due" in queue.inner_text()
    assert_accessible(page, live_server.url)
    save_screen(page, "day_counselor_alerts")
    # The action leads to the chart section where the alert is resolved.
    queue.get_by_role("link", name="Open medications").click()
    assert page.get_by_test_id("chart-heading").inner_text().startswith("Blake Evening")
    page.go_back()
    # Set aside with a reason (acknowledged: in hand), and it stays gone.
    item = (
        page.get_by_test_id("alert-queue").get_by_test_id("alert").filter(has_text="injection due")
    )
    item.locator("summary").click()
    item.get_by_label("Why it is in hand").fill("Booked for Thursday morning")
    item.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_test_id("alert-queue").get_by_text("injection due")).to_have_count(0)
    page.reload()
    assert "injection due" not in page.get_by_test_id("alert-queue").inner_text()


def test_director_reads_two_reports_and_exports_csv(page, login, live_server, director, clinic):
    login(page, "director")
    page.get_by_role("link", name="Reports").click()
    page.get_by_role("link", name="Census over time").click()
    expect(page.get_by_test_id("report-table")).to_be_visible()
    assert_accessible(page, live_server.url)
    save_screen(page, "day_director_census")
    page.go_back()
    page.get_by_role("link", name="Retention (length of stay)").click()
    assert "episodes" in page.get_by_test_id("report-note").inner_text()
    save_screen(page, "day_director_retention")
    with page.expect_download() as download:
        page.get_by_test_id("csv-link").click()
    # UTF-8 with a byte-order mark, so that Excel reads accented names right.
    assert download.value.suggested_filename.startswith("stepwise-retention-")
    lines = Path(download.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "day,% in care,at risk,ended"


def test_patient_on_a_phone_checks_schedule_and_hands_in_homework(page, login, live_server, clinic):
    page.set_viewport_size({"width": 375, "height": 740})
    login(page, clinic["first"].user.username)
    assert_accessible(page, live_server.url)
    save_screen(page, "day_patient_home")
    page.get_by_role("button", name="Toggle navigation").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My schedule").click()
    expect(page.get_by_text("Group session").first).to_be_visible()
    assert_accessible(page, live_server.url)
    save_screen(page, "day_patient_schedule")
    page.get_by_role("button", name="Toggle navigation").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Homework").click()
    page.get_by_label("Your answer").fill("Payday, passing the old bar, arguments at home.")
    page.get_by_role("button", name="Send to my counselor").click()
    expect(page.get_by_text("sent to your counselor")).to_be_visible()
    assert_accessible(page, live_server.url)
    save_screen(page, "day_patient_homework")
    assert clinic["first"].homework.get().status == "submitted"
