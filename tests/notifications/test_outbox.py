"""The outbox's core: dispatch claims each due row once, sending is idempotent, the
reconciler recovers lost messages and dead claims, resend makes a new row."""

from __future__ import annotations

from datetime import datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from notifications import outbox, sending
from notifications.models import Channel, Notification, Status

UTC = ZoneInfo("UTC")
T0 = datetime(2026, 1, 1, 12, tzinfo=UTC)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_publish(monkeypatch):
    """Record what would go on the broker instead of publishing (no worker here)."""
    sent: list[int] = []
    monkeypatch.setattr(outbox, "enqueue_send", lambda ids: sent.extend(ids))
    return sent


def test_dispatch_queues_each_due_row_once(
    patient_email, make_rows, no_publish, django_capture_on_commit_callbacks
):
    rows = make_rows(5, recipient=patient_email.user, patient=patient_email)
    make_rows(
        2,
        recipient=patient_email.user,
        patient=patient_email,
        start=100,
        due_at=T0 + timedelta(hours=1),
    )
    with django_capture_on_commit_callbacks(execute=True):
        first = outbox.notifications_dispatch_due(now=T0, batch_size=2)
    with django_capture_on_commit_callbacks(execute=True):
        second = outbox.notifications_dispatch_due(now=T0)
    assert sorted(first) == sorted(r.pk for r in rows)
    assert second == []
    assert sorted(no_publish) == sorted(r.pk for r in rows)


def test_dispatch_publishes_nothing_when_its_transaction_rolls_back(
    patient_email, make_rows, no_publish, django_capture_on_commit_callbacks
):
    make_rows(3, recipient=patient_email.user, patient=patient_email)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        mock.patch.object(Notification.objects, "filter", side_effect=RuntimeError("boom")),
    ):
        outbox.notifications_dispatch_due(now=T0)
    assert callbacks == []
    assert no_publish == []
    assert Notification.objects.filter(queued_at__isnull=False).count() == 0


def test_send_twice_delivers_once(patient_email, make_rows):
    (row,) = make_rows(1, recipient=patient_email.user, patient=patient_email)
    assert sending.notification_send(notification_id=row.pk, claim_token="a", now=T0) == "sent"
    assert (
        sending.notification_send(notification_id=row.pk, claim_token="b", now=T0) == "not-claimed"
    )
    assert (
        sending.notification_send(notification_id=row.pk, claim_token="a", now=T0) == "not-claimed"
    )
    assert len(mail.outbox) == 1
    row.refresh_from_db()
    assert row.status == Status.SENT and row.sent_at is not None and row.attempts == 1
    assert mail.outbox[0].extra_headers["Message-ID"] == f"<n{row.pk}@stepwise.notifications>"


def test_send_refuses_a_row_another_message_has_claimed(patient_email, make_rows):
    (row,) = make_rows(1, recipient=patient_email.user, patient=patient_email)
    Notification.objects.filter(pk=row.pk).update(
        status=Status.SENDING, claim_token="a", claimed_at=T0
    )
    assert (
        sending.notification_send(notification_id=row.pk, claim_token="b", now=T0) == "not-claimed"
    )
    assert len(mail.outbox) == 0


def test_redelivered_message_takes_over_its_own_claim(patient_email, make_rows):
    """The worker died after claiming: the same message (same task id) comes back."""
    (row,) = make_rows(1, recipient=patient_email.user, patient=patient_email)
    Notification.objects.filter(pk=row.pk).update(
        status=Status.SENDING, claim_token="a", claimed_at=T0, attempts=1
    )
    assert sending.notification_send(notification_id=row.pk, claim_token="a", now=T0) == "sent"
    assert len(mail.outbox) == 1


def test_send_waits_until_due(patient_email, make_rows):
    (row,) = make_rows(1, recipient=patient_email.user, patient=patient_email)
    early = T0 - timedelta(seconds=1)
    assert (
        sending.notification_send(notification_id=row.pk, claim_token="a", now=early)
        == "not-claimed"
    )
    assert Notification.objects.get(pk=row.pk).status == Status.PENDING


def test_provider_error_retries_later_then_fails(patient_email, make_rows, settings):
    settings.EMAIL_BACKEND = "core.mail.SMTPEmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 1  # nothing listens there
    (row,) = make_rows(1, recipient=patient_email.user, patient=patient_email)
    now = T0
    outcomes = []
    for _ in range(sending.MAX_ATTEMPTS):
        now = Notification.objects.get(pk=row.pk).deliver_after
        outcomes.append(
            sending.notification_send(notification_id=row.pk, claim_token=str(now), now=now)
        )
    row.refresh_from_db()
    assert outcomes == ["retry"] * (sending.MAX_ATTEMPTS - 1) + ["failed"]
    assert row.status == Status.FAILED and row.attempts == sending.MAX_ATTEMPTS
    assert "ConnectionRefusedError" in row.last_error


def test_reconcile_requeues_lost_message_after_grace(
    patient_email, make_rows, no_publish, django_capture_on_commit_callbacks
):
    (row,) = make_rows(1, recipient=patient_email.user, patient=patient_email)
    with django_capture_on_commit_callbacks(execute=True):
        outbox.notifications_dispatch_due(now=T0)
    no_publish.clear()  # the message is lost (Redis restarted)
    with django_capture_on_commit_callbacks(execute=True):
        early = outbox.notifications_reconcile(
            now=T0 + outbox.RECONCILE_GRACE - timedelta(seconds=1)
        )
    assert early["lost"] == 0 and no_publish == []
    with django_capture_on_commit_callbacks(execute=True):
        late = outbox.notifications_reconcile(
            now=T0 + outbox.RECONCILE_GRACE + timedelta(seconds=1)
        )
    assert late["lost"] == 1 and no_publish == [row.pk]


def test_reconcile_takes_over_dead_claim_after_lease(
    patient_email, make_rows, no_publish, django_capture_on_commit_callbacks
):
    (row,) = make_rows(1, recipient=patient_email.user, patient=patient_email)
    Notification.objects.filter(pk=row.pk).update(
        status=Status.SENDING, claim_token="dead", claimed_at=T0, queued_at=T0
    )
    with django_capture_on_commit_callbacks(execute=True):
        outbox.notifications_reconcile(now=T0 + outbox.SENDING_LEASE - timedelta(seconds=1))
    assert Notification.objects.get(pk=row.pk).status == Status.SENDING
    with django_capture_on_commit_callbacks(execute=True):
        result = outbox.notifications_reconcile(
            now=T0 + outbox.SENDING_LEASE + timedelta(seconds=1)
        )
    assert result["orphaned"] == 1 and no_publish == [row.pk]
    later = T0 + outbox.SENDING_LEASE + timedelta(seconds=2)
    assert sending.notification_send(notification_id=row.pk, claim_token="new", now=later) == "sent"


def test_resend_creates_a_new_row_and_keeps_the_original(patient_email, make_rows, director):
    (row,) = make_rows(1, recipient=patient_email.user, patient=patient_email)
    sending.notification_send(notification_id=row.pk, claim_token="a", now=T0)
    before = Notification.objects.values().get(pk=row.pk)
    again = outbox.notification_resend(
        actor=director, notification=row, now=T0 + timedelta(hours=1)
    )
    assert again.pk != row.pk and again.resend_of_id == row.pk and again.status == Status.PENDING
    assert Notification.objects.values().get(pk=row.pk) == before
    assert (
        sending.notification_send(notification_id=again.pk, claim_token="b", now=again.due_at)
        == "sent"
    )
    assert len(mail.outbox) == 2


def test_in_app_row_becomes_visible_when_sent(patient_email, make_rows):
    (row,) = make_rows(
        1, recipient=patient_email.user, patient=patient_email, channel=Channel.IN_APP
    )
    assert sending.notification_send(notification_id=row.pk, claim_token="a", now=T0) == "sent"
    row.refresh_from_db()
    assert row.body.startswith("Your next injection visit is due on")
    assert len(mail.outbox) == 0
