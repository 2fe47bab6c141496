"""The issue's flow in a real browser: a patient on a phone opens the PHQ-9 from the portal
home, answers the nine questions with item 9 above 0 and submits; the crisis box (988) is
the first thing on the next page. The counselor's home then shows the urgent alert; the
counselor follows it, records the safety follow-up, and the alert is gone."""

from __future__ import annotations

import pytest

from measures.models import SafetyEvent
from tests.conftest import save_screen

from ._checkin_fixtures import make_sitting, phq9, sitting

__all__ = ["make_sitting", "phq9", "sitting"]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Several days for items 1-8; item 9 "More than half the days".
ANSWERS = ["Several days"] * 8 + ["More than half the days"]


def test_item_9_shows_crisis_resources_and_alerts_the_counselor_until_followed_up(
    browser, live_server, login, patient, counselor, sitting
):
    phone = browser.new_context(viewport={"width": 375, "height": 812}).new_page()
    phone.set_default_timeout(10_000)
    login(phone, patient.user.username)

    phone.get_by_text("You have a short check-in to complete").wait_for()
    phone.get_by_role("link", name="Start the check-in").click()
    for number, answer in enumerate(ANSWERS, start=1):
        phone.get_by_test_id("checkin-position").filter(
            has_text=f"Question {number} of 10"
        ).wait_for()
        phone.get_by_text(answer, exact=True).click()
        phone.get_by_role("button", name="Next").click()
    # The tenth (how difficult the problems made things) is optional: skipped here.
    phone.get_by_test_id("checkin-position").filter(has_text="Question 10 of 10").wait_for()
    phone.get_by_role("button", name="Skip this question").click()
    phone.get_by_role("heading", name="Check your answers").wait_for()
    save_screen(phone, "checkin_review_phone")
    phone.get_by_role("button", name="Submit").click()

    crisis = phone.get_by_test_id("crisis-box")
    crisis.wait_for()
    assert "call or text 988" in crisis.inner_text()
    assert "Your counselor will contact you today." in crisis.inner_text()
    assert phone.locator('a[href="tel:988"]').count() == 1
    # First on the page: above the thanks.
    crisis_top = crisis.bounding_box()["y"]
    thanks_top = phone.get_by_role("heading", name="Thank you").bounding_box()["y"]
    assert crisis_top < thanks_top
    save_screen(phone, "checkin_crisis_phone")

    desk = browser.new_context().new_page()
    desk.set_default_timeout(10_000)
    login(desk, counselor.username)
    alert = desk.get_by_test_id("alert").filter(has_text="same-day safety follow-up")
    alert.wait_for()
    assert "PHQ-9 item 9 answered 2" in alert.inner_text()
    assert alert.get_by_role("button", name="Acknowledge").count() == 0  # cannot be set aside
    alert.get_by_role("link", name="Record the safety follow-up").click()

    desk.get_by_label("What was done").select_option("assessed_safe")
    desk.get_by_label("Note").fill("Called at once; no plan or intent; safety plan reviewed.")
    desk.get_by_role("button", name="Record the follow-up").click()
    desk.get_by_text("Safety follow-up recorded.").wait_for()
    assert desk.get_by_test_id("alert").filter(has_text="same-day safety follow-up").count() == 0
    event = SafetyEvent.objects.get(administration=sitting)
    assert event.followup_by == counselor
    assert event.followup_action == "assessed_safe"
