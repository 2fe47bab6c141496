"""Self-service password reset by email, and password change for a signed-in user."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEvent
from notifications.privacy import violations
from tests.conftest import PASSWORD

NEW_PASSWORD = "a-brand-new-passphrase-42"
NEUTRAL_ANSWER = "If an account uses that address, we have sent a link"


@pytest.fixture
def inline_reset_mail(monkeypatch, django_capture_on_commit_callbacks):
    """Send the reset email in-process when the request commits (no worker here)."""
    from privacy import tasks

    monkeypatch.setattr(
        tasks, "queue_password_reset", lambda user_ids: tasks.send_password_reset(user_ids)
    )

    def request(client, email):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("privacy:password_reset"), {"email": email})

    return request


@pytest.fixture
def counselor_email(counselor):
    counselor.email = "sam@example.org"
    counselor.save(update_fields=["email"])
    return counselor


def _link(message) -> str:
    match = re.search(r"https?://[^/\s]+(/\S+)", message.body)
    assert match, message.body
    return match.group(1)


def _reset(client, link, password=NEW_PASSWORD):
    form_url = client.get(link).url  # the token moves into the session
    return client.post(form_url, {"new_password1": password, "new_password2": password})


def _can_log_in(username, password, ip="203.0.113.7") -> bool:
    response = Client().post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )
    return response.status_code == 302


def test_reset_for_a_known_address_sends_one_neutral_link(
    client, counselor_email, inline_reset_mail
):
    response = inline_reset_mail(client, "Sam@Example.org")
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert NEUTRAL_ANSWER in page
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["sam@example.org"]
    assert "Stepwise" in message.subject
    # The recipient may be a patient: nothing may say what the clinic treats.
    assert violations(message.subject) == [] and violations(message.body) == []
    assert AuditEvent.objects.filter(
        action="auth.password_reset_requested", detail__user_ids=[counselor_email.pk]
    ).exists()
    assert AuditEvent.objects.filter(
        action="auth.password_reset_sent", object_id=str(counselor_email.pk)
    ).exists()


def test_reset_for_an_unknown_address_gives_the_same_page_and_sends_nothing(
    client, counselor_email, inline_reset_mail
):
    known = inline_reset_mail(client, "sam@example.org")
    mail.outbox.clear()
    unknown = inline_reset_mail(Client(), "nobody@example.org")
    assert unknown.status_code == known.status_code == 302
    assert unknown.url == known.url
    assert mail.outbox == []
    row = AuditEvent.objects.filter(action="auth.password_reset_requested").order_by("-id").first()
    assert row.detail == {"user_ids": []}


def test_reset_queues_the_email_the_same_way_for_unknown_and_known_addresses(
    client, counselor_email, monkeypatch, django_capture_on_commit_callbacks
):
    # The same work on both paths (one lookup, one audit row, one queued task): the
    # response time does not tell whether the address has an account.
    from privacy import tasks

    queued = []
    monkeypatch.setattr(tasks, "queue_password_reset", queued.append)
    for email in ("sam@example.org", "nobody@example.org"):
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("privacy:password_reset"), {"email": email})
    assert queued == [[counselor_email.pk], []]
    assert mail.outbox == []  # nothing is sent inside the request


def test_reset_email_never_carries_the_password_or_token_into_the_audit_trail(
    client, counselor_email, inline_reset_mail
):
    inline_reset_mail(client, "sam@example.org")
    link = _link(mail.outbox[0])
    _reset(client, link)
    token = link.rstrip("/").rsplit("/", 1)[-1]
    for event in AuditEvent.objects.all():
        text = str(event.detail)
        assert NEW_PASSWORD not in text and token not in text


def test_reset_sets_the_new_password_and_is_audited(client, counselor_email, inline_reset_mail):
    inline_reset_mail(client, "sam@example.org")
    response = _reset(client, _link(mail.outbox[0]))
    assert response.status_code == 302
    assert response.url == reverse("privacy:password_reset_complete")
    counselor_email.refresh_from_db()
    assert counselor_email.check_password(NEW_PASSWORD)
    assert AuditEvent.objects.filter(
        action="auth.password_reset_completed", object_id=str(counselor_email.pk)
    ).exists()
    assert _can_log_in("counselor", NEW_PASSWORD)


def test_reset_link_works_only_once(client, counselor_email, inline_reset_mail):
    inline_reset_mail(client, "sam@example.org")
    link = _link(mail.outbox[0])
    _reset(client, link)
    again = Client().get(link)
    assert again.status_code == 200
    assert "no longer valid" in again.content.decode()


def test_reset_link_expires_after_the_timeout(client, counselor_email, inline_reset_mail, settings):
    assert settings.PASSWORD_RESET_TIMEOUT == 3600
    inline_reset_mail(client, "sam@example.org")
    link = _link(mail.outbox[0])
    later = timezone.now() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60)
    with time_machine.travel(later, tick=False):
        response = Client().get(link)
    assert response.status_code == 200
    assert "no longer valid" in response.content.decode()
    counselor_email.refresh_from_db()
    assert counselor_email.check_password(PASSWORD)


def test_reset_clears_the_lockout(client, counselor_email, inline_reset_mail, settings):
    for _ in range(settings.LOGIN_LOCKOUT_USER_ATTEMPTS):
        Client().post(
            reverse("login"), {"username": "counselor", "password": "wrong"}, REMOTE_ADDR="1.2.3.4"
        )
    assert not _can_log_in("counselor", PASSWORD, ip="1.2.3.4")
    inline_reset_mail(client, "sam@example.org")
    _reset(client, _link(mail.outbox[0]))
    assert _can_log_in("counselor", NEW_PASSWORD, ip="1.2.3.4")


def test_reset_ends_every_other_session_of_the_user(client, counselor_email, inline_reset_mail):
    elsewhere = Client()
    elsewhere.force_login(counselor_email)
    key = elsewhere.session.session_key
    inline_reset_mail(client, "sam@example.org")
    _reset(client, _link(mail.outbox[0]))
    assert not Session.objects.filter(session_key=key).exists()
    assert elsewhere.get(reverse("home")).status_code == 302


def test_a_patient_can_reset_too(client, patient, inline_reset_mail):
    patient.user.email = "robin@example.org"
    patient.user.save(update_fields=["email"])
    inline_reset_mail(client, "robin@example.org")
    _reset(client, _link(mail.outbox[0]))
    assert _can_log_in(patient.user.username, NEW_PASSWORD)


def test_reset_of_a_deactivated_account_sends_nothing(client, counselor_email, inline_reset_mail):
    counselor_email.is_active = False
    counselor_email.save()
    inline_reset_mail(client, "sam@example.org")
    assert mail.outbox == []


def test_reset_refuses_a_weak_password_with_a_message(client, counselor_email, inline_reset_mail):
    inline_reset_mail(client, "sam@example.org")
    response = _reset(client, _link(mail.outbox[0]), password="short")
    assert response.status_code == 200
    assert "at least 12" in response.content.decode()
    counselor_email.refresh_from_db()
    assert counselor_email.check_password(PASSWORD)


def test_login_page_links_to_the_reset(client, db):
    page = client.get(reverse("login")).content.decode()
    assert reverse("privacy:password_reset") in page


# --- change -------------------------------------------------------------------


def _change(client, old=PASSWORD, new=NEW_PASSWORD):
    return client.post(
        reverse("privacy:password_change"),
        {"old_password": old, "new_password1": new, "new_password2": new},
    )


def test_change_sets_the_new_password_keeps_this_session_and_is_audited(client, counselor):
    client.force_login(counselor)
    response = _change(client)
    assert response.status_code == 302
    counselor.refresh_from_db()
    assert counselor.check_password(NEW_PASSWORD)
    assert client.get(reverse("home")).status_code == 200
    row = AuditEvent.objects.get(action="auth.password_changed")
    assert row.actor == counselor
    assert NEW_PASSWORD not in str(row.detail) and PASSWORD not in str(row.detail)


def test_change_ends_the_users_other_sessions(client, counselor):
    elsewhere = Client()
    elsewhere.force_login(counselor)
    key = elsewhere.session.session_key
    client.force_login(counselor)
    _change(client)
    assert not Session.objects.filter(session_key=key).exists()
    assert elsewhere.get(reverse("home")).status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_change_with_the_wrong_current_password_is_refused(client, counselor):
    client.force_login(counselor)
    response = _change(client, old="not-my-password")
    assert response.status_code == 200
    assert "incorrect" in response.content.decode()
    counselor.refresh_from_db()
    assert counselor.check_password(PASSWORD)
    assert not AuditEvent.objects.filter(action="auth.password_changed").exists()


def test_a_patient_can_change_their_password(client, patient):
    client.force_login(patient.user)
    assert _change(client).status_code == 302
    patient.user.refresh_from_db()
    assert patient.user.check_password(NEW_PASSWORD)


def test_the_user_menu_links_to_password_change(client, patient, counselor):
    for user in (patient.user, counselor):
        client.force_login(user)
        page = client.get(reverse("home")).content.decode()
        assert reverse("privacy:password_change") in page


def test_change_needs_a_signed_in_user(client, db):
    response = client.get(reverse("privacy:password_change"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_reset_made_while_signed_in_in_the_same_browser_ends_that_session_too(
    client, counselor_email, inline_reset_mail
):
    client.force_login(counselor_email)
    inline_reset_mail(client, "sam@example.org")
    response = _reset(client, _link(mail.outbox[0]))
    assert response.status_code == 302
    assert response.url == reverse("privacy:password_reset_complete")
    assert client.get(reverse("home")).status_code == 302


def test_repeated_resets_within_minutes_send_one_email(client, counselor_email, inline_reset_mail):
    # Anyone can ask for a reset for any address: asked in a loop, it must not flood the
    # person's inbox. The first link still works for the whole window.
    for _ in range(5):
        assert inline_reset_mail(Client(), "sam@example.org").status_code == 302
    assert len(mail.outbox) == 1
    assert AuditEvent.objects.filter(action="auth.password_reset_requested").count() == 5
    assert AuditEvent.objects.filter(action="auth.password_reset_sent").count() == 1


def test_a_reset_asked_again_after_the_quiet_period_sends_again(
    client, counselor_email, inline_reset_mail, settings
):
    inline_reset_mail(client, "sam@example.org")
    later = timezone.now() + timedelta(minutes=settings.PASSWORD_RESET_QUIET_MINUTES, seconds=1)
    with time_machine.travel(later, tick=False):
        inline_reset_mail(Client(), "sam@example.org")
    assert len(mail.outbox) == 2
