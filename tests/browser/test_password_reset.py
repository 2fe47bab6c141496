import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from tests.a11y import assert_accessible
from tests.conftest import save_screen

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "a-brand-new-passphrase-42"


@pytest.fixture
def inline_reset_mail(monkeypatch):
    """The reset email is sent by a Celery task; here it runs in the live server's thread."""
    from privacy import tasks

    monkeypatch.setattr(
        tasks, "queue_password_reset", lambda user_ids: tasks.send_password_reset(user_ids)
    )


def test_password_reset_end_to_end(page, live_server, patient, login, settings, inline_reset_mail):
    patient.user.email = "robin@example.org"
    patient.user.save(update_fields=["email"])
    settings.STEPWISE_BASE_URL = live_server.url
    mail.outbox.clear()

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill("robin@example.org")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_text("If an account uses that address, we have sent a link")).to_be_visible()
    assert_accessible(page, live_server.url)

    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+", mail.outbox[0].body).group(0)
    page.goto(link)
    # "New password" is also the start of the second field's label: the first by name.
    page.locator("input[name=new_password1]").fill(NEW_PASSWORD)
    page.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    save_screen(page, "password_reset_confirm")
    assert_accessible(page, live_server.url)
    page.get_by_role("button", name="Set the new password").click()
    expect(page.get_by_text("Your password has been set")).to_be_visible()

    page.get_by_role("link", name="Log in").last.click()
    login(page, patient.user.username, NEW_PASSWORD)
    assert page.get_by_test_id("home-heading").inner_text().startswith("Hello,")
