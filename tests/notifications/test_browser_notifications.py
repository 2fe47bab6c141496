"""Main flows in a real browser: a patient on a phone sees the unread count, reads the
list and marks it read; a counselor resends a failed reminder from the outbox."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from notifications.models import Channel, Notification, Status
from tests.a11y import assert_accessible
from tests.conftest import save_screen

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_patient_reads_notifications_on_a_phone(page, login, live_server, patient, make_rows):
    rows = make_rows(2, recipient=patient.user, patient=patient, channel=Channel.IN_APP)
    Notification.objects.filter(pk__in=[r.pk for r in rows]).update(
        status=Status.SENT,
        sent_at=timezone.now(),
        body="Your next injection visit is due on Mon Jan 4.",
    )
    page.set_viewport_size({"width": 375, "height": 740})
    login(page, patient.user.username)
    assert page.get_by_test_id("unread-count").inner_text() == "2 unread"
    page.get_by_role("link", name="All notifications").click()
    assert page.get_by_test_id("notification").count() == 2
    assert_accessible(page, live_server.url)
    save_screen(page, "notifications_inbox_375")
    page.get_by_role("button", name="Mark all as read").click()
    assert page.get_by_test_id("unread-count").inner_text() == "0 unread"
    assert not Notification.objects.filter(read_at__isnull=True).exists()


def test_counselor_resends_a_failed_email(page, login, live_server, counselor, patient, make_rows):
    (row,) = make_rows(1, recipient=patient.user, patient=patient, channel=Channel.EMAIL)
    Notification.objects.filter(pk=row.pk).update(status=Status.FAILED, last_error="SMTP down")
    login(page, counselor.username)
    page.goto(f"{live_server.url}/notifications/outbox/?status=failed")
    assert page.get_by_test_id("outbox-row").count() == 1
    assert_accessible(page, live_server.url)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Resend").click()
    page.wait_for_selector("text=Queued again as notification")
    again = Notification.objects.get(resend_of=row)
    assert (
        again.status == Status.PENDING
        and Notification.objects.get(pk=row.pk).status == Status.FAILED
    )
    save_screen(page, "notifications_outbox_resend")


def test_patient_chooses_text_messages_with_consent(page, login, live_server, patient):
    from notifications.models import NotificationPreference

    patient.phone = "+15185550142"
    patient.save()
    page.set_viewport_size({"width": 375, "height": 740})
    login(page, patient.user.username)
    page.goto(f"{live_server.url}/notifications/preferences/")
    page.get_by_role("radio", name="Text message").check()
    page.get_by_role("button", name="Save preferences").click()
    expect(page.get_by_text("Text messages need your consent.").first).to_be_visible()
    page.get_by_label("I agree to receive text message reminders").check()
    page.get_by_role("button", name="Save preferences").click()
    page.wait_for_selector("text=Your reminder preferences are saved.")
    assert_accessible(page, live_server.url)
    save_screen(page, "notifications_preferences_375")
    pref = NotificationPreference.objects.get(user=patient.user)
    assert pref.channel == Channel.SMS and pref.sms_allowed
