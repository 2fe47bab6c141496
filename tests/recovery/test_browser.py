"""The main flow in a real browser: a patient logs a meeting with a photo and submits
homework (on a phone-sized screen); the counselor verifies the meeting and returns
the homework with a comment; the patient sees the comment."""

from datetime import date, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from recovery.models import HomeworkAssignment, HomeworkStatus, Meeting, MeetingStatus
from recovery.services.homework import homework_assign, homework_template_create
from tests.conftest import SCENARIO_NOW, save_screen
from tests.recovery.conftest import NY, png_bytes

pytestmark = [
    pytest.mark.frozen(SCENARIO_NOW),  # the scenario instant (tests/conftest.py)
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

COMMENT = "Please add one trigger from this week."


def test_meeting_and_homework_review_cycle(browser, live_server, login, patient, counselor, site):
    template = homework_template_create(
        actor=counselor, site=site, title="Triggers and cravings log", instructions="Log them."
    )
    homework_assign(actor=counselor, patient=patient, template=template, due_date=date(2027, 1, 15))
    phone = browser.new_context(viewport={"width": 375, "height": 812}).new_page()
    phone.set_default_timeout(10_000)
    login(phone, patient.user.username)

    # The patient logs a meeting with a photo of the signed sheet.
    phone.goto(f"{live_server.url}/recovery/my/meetings/")
    held = timezone.localtime(timezone.now(), NY) - timedelta(hours=3)
    phone.get_by_label("Date and time of the meeting").fill(held.strftime("%Y-%m-%dT%H:%M"))
    phone.get_by_label("Fellowship").select_option("na")
    phone.get_by_label("Meeting name").fill("Clean and Serene")
    phone.get_by_label("Online").check()
    phone.get_by_label("Chair or secretary's name").fill("Pat S.")
    phone.get_by_label("Photo or PDF of the signed sheet (optional)").set_input_files(
        files=[{"name": "sheet.png", "mimeType": "image/png", "buffer": png_bytes()}]
    )
    phone.get_by_role("button", name="Log meeting").click()
    phone.get_by_text("Your meeting is logged").wait_for()
    assert phone.get_by_test_id("my-meeting").first.inner_text().count("Waiting for staff") == 1
    save_screen(phone, "recovery_portal_meetings")

    # ... and submits homework.
    phone.goto(f"{live_server.url}/recovery/my/homework/")
    phone.get_by_label("Your answer").fill("Payday, and walking past my old bar.")
    phone.get_by_role("button", name="Send to my counselor").click()
    phone.get_by_text("sent to your counselor").wait_for()

    # The counselor verifies the meeting and returns the homework with a comment.
    desk = browser.new_context().new_page()
    desk.set_default_timeout(10_000)
    login(desk, counselor.username)
    desk.goto(f"{live_server.url}/recovery/queue/")
    meeting_card = desk.get_by_test_id("queue-meeting")
    assert "Clean and Serene" in meeting_card.inner_text()
    expect(meeting_card.get_by_role("link", name="Signed sheet: sheet.png")).to_be_visible()
    save_screen(desk, "recovery_queue")
    meeting_card.get_by_role("button", name="Verify").click()
    desk.get_by_text("verified").first.wait_for()
    card = desk.get_by_test_id("queue-submission")
    card.get_by_label("Comment for the patient").fill(COMMENT)
    card.get_by_role("button", name="Return for changes").click()
    desk.get_by_text("returned with your comment").wait_for()
    meeting = Meeting.objects.get()
    assert (meeting.status, meeting.sheet.content_type) == (MeetingStatus.VERIFIED, "image/png")
    assert HomeworkAssignment.objects.get().status == HomeworkStatus.RETURNED

    # The patient sees the comment and that the meeting counted.
    phone.goto(f"{live_server.url}/recovery/my/homework/")
    assert COMMENT in phone.get_by_test_id("review-comment").inner_text()
    expect(phone.get_by_role("button", name="Send it again")).to_be_visible()
    save_screen(phone, "recovery_portal_homework_returned")
    phone.goto(f"{live_server.url}/recovery/my/meetings/")
    assert "Counted" in phone.get_by_test_id("my-meeting").first.inner_text()
