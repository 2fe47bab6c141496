"""Batched sending: one claim, a few reads and one SMTP connection per batch of ids;
each message marked sent as the provider accepts it; an outage or a long batch puts
the untried rest back without using up their attempts."""

from __future__ import annotations

import smtplib
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.mail.backends import smtp

from notifications import outbox, sending, tasks
from notifications.models import Channel, Kind, Notification, NotificationPreference, Status

UTC = ZoneInfo("UTC")
T0 = datetime(2026, 1, 1, 12, tzinfo=UTC)

pytestmark = pytest.mark.django_db


def batch(rows, claim="t", now=T0, **kwargs):
    return sending.notifications_send_batch(
        notification_ids=[r.pk for r in rows], claim_token=claim, now=now, **kwargs
    )


def test_a_batch_sends_every_email_over_one_smtp_connection(
    patient_email, make_rows, smtp_server, monkeypatch
):
    opened = []

    class CountingSMTP(smtplib.SMTP):
        def __init__(self, *args, **kwargs):
            opened.append(1)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(smtp.EmailBackend, "connection_class", CountingSMTP)
    rows = make_rows(10, recipient=patient_email.user, patient=patient_email)
    outcomes = batch(rows)
    assert set(outcomes.values()) == {"sent"}
    assert len(smtp_server) == 10 and len(opened) == 1
    assert sorted(smtp_server.message_ids()) == sorted(
        f"<n{r.pk}@stepwise.notifications>" for r in rows
    )
    assert Notification.objects.filter(status=Status.SENT).count() == 10


def test_a_batch_of_in_app_rows_takes_a_fixed_number_of_queries(
    patient_email, make_rows, django_assert_max_num_queries
):
    rows = make_rows(
        50, recipient=patient_email.user, patient=patient_email, channel=Channel.IN_APP
    )
    # claim, read the rows, preferences, one bulk "sent" (in a savepoint pair)
    with django_assert_max_num_queries(6):
        outcomes = batch(rows)
    assert set(outcomes.values()) == {"sent"}
    sent = Notification.objects.filter(status=Status.SENT)
    assert sent.count() == 50
    assert not sent.filter(body="").exists() and not sent.filter(sent_at__isnull=True).exists()


def test_a_batch_of_emails_adds_one_query_per_message(
    patient_email, make_rows, django_assert_max_num_queries
):
    rows = make_rows(50, recipient=patient_email.user, patient=patient_email)
    # claim, rows, preferences, and one "sent" mark per message: marking each as it goes
    # is what bounds duplicates after a crash to one.
    with django_assert_max_num_queries(3 + 50):
        outcomes = batch(rows)
    assert set(outcomes.values()) == {"sent"} and len(mail.outbox) == 50


def test_a_batch_handles_each_row_on_its_own_terms(patient_email, make_rows):
    NotificationPreference.objects.filter(user=patient_email.user).update(
        disabled_kinds=[Kind.HOMEWORK_DUE]
    )
    (email,) = make_rows(1, recipient=patient_email.user, patient=patient_email)
    (in_app,) = make_rows(
        1, recipient=patient_email.user, patient=patient_email, channel=Channel.IN_APP, start=10
    )
    (off,) = make_rows(
        1, recipient=patient_email.user, patient=patient_email, kind=Kind.HOMEWORK_DUE, start=20
    )
    (later,) = make_rows(
        1,
        recipient=patient_email.user,
        patient=patient_email,
        start=30,
        due_at=T0 + timedelta(hours=1),
    )
    outcomes = batch([email, in_app, off, later])
    assert outcomes == {
        email.pk: "sent",
        in_app.pk: "sent",
        off.pk: "skipped: switched off by the recipient",
        later.pk: "not-claimed",
    }
    statuses = dict(Notification.objects.values_list("pk", "status"))
    assert statuses == {
        email.pk: Status.SENT,
        in_app.pk: Status.SENT,
        off.pk: Status.SKIPPED,
        later.pk: Status.PENDING,
    }
    assert Notification.objects.get(pk=off.pk).last_error == "switched off by the recipient"
    assert len(mail.outbox) == 1


def test_a_failing_provider_puts_the_rest_of_the_batch_back_untried(
    patient_email, make_rows, settings
):
    settings.EMAIL_BACKEND = "core.mail.SMTPEmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 1  # nothing listens there
    rows = make_rows(5, recipient=patient_email.user, patient=patient_email)
    outcomes = batch(rows)
    assert set(outcomes.values()) == {"retry"}
    tried = Notification.objects.filter(pk__in=[r.pk for r in rows[:2]])
    untried = Notification.objects.filter(pk__in=[r.pk for r in rows[2:]])
    assert {(r.status, r.attempts) for r in tried} == {(Status.PENDING, 1)}
    assert all("ConnectionRefusedError" in r.last_error for r in tried)
    assert {(r.status, r.attempts, r.claim_token, r.queued_at) for r in untried} == {
        (Status.PENDING, 0, "", None)
    }
    assert {r.deliver_after for r in untried} == {T0 + sending.UNTRIED_RETRY}


def test_a_batch_past_its_time_budget_puts_the_rest_back(patient_email, make_rows):
    rows = make_rows(3, recipient=patient_email.user, patient=patient_email)
    outcomes = batch(rows, budget_seconds=-1)
    assert set(outcomes.values()) == {"retry"} and len(mail.outbox) == 0
    assert set(Notification.objects.values_list("status", "attempts", "last_error")) == {
        (Status.PENDING, 0, "not tried: batch ran long")
    }


def test_another_claim_in_the_same_batch_is_left_alone(patient_email, make_rows):
    mine, theirs = make_rows(2, recipient=patient_email.user, patient=patient_email)
    Notification.objects.filter(pk=theirs.pk).update(
        status=Status.SENDING, claim_token="other", claimed_at=T0
    )
    assert batch([mine, theirs]) == {mine.pk: "sent", theirs.pk: "not-claimed"}
    theirs.refresh_from_db()
    assert theirs.status == Status.SENDING and theirs.claim_token == "other"
    assert len(mail.outbox) == 1


def test_dispatch_puts_ids_on_the_broker_in_batches(monkeypatch):
    published = []
    monkeypatch.setattr(
        tasks.send_batch, "apply_async", lambda args, producer=None: published.append(args[0])
    )
    outbox.enqueue_send(list(range(1, 121)))
    assert [len(ids) for ids in published] == [50, 50, 20]
    assert [pk for ids in published for pk in ids] == list(range(1, 121))


@pytest.mark.django_db(transaction=True)
def test_marks_outside_a_transaction_leave_the_connection_committing_durably(
    patient_email, make_rows
):
    """The worker's path (autocommit): the relaxed commit lasts one statement each."""
    from django.db import connection

    rows = make_rows(3, recipient=patient_email.user, patient=patient_email)
    assert set(batch(rows).values()) == {"sent"}
    assert Notification.objects.filter(status=Status.SENT, body__gt="").count() == 3
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone()[0] == "on"


def test_a_row_that_cannot_be_prepared_fails_alone(patient_email, make_rows, monkeypatch):
    from notifications import messages

    good, bad = make_rows(2, recipient=patient_email.user, patient=patient_email)
    real = messages.render_checked

    def render(row, **kwargs):
        if row.pk == bad.pk:
            raise KeyError("template variable")
        return real(row, **kwargs)

    monkeypatch.setattr(messages, "render_checked", render)
    assert batch([good, bad]) == {good.pk: "sent", bad.pk: "retry"}
    bad.refresh_from_db()
    assert bad.status == Status.PENDING and "KeyError" in bad.last_error
    assert len(mail.outbox) == 1


def test_a_batch_cut_short_puts_the_rows_it_holds_back(patient_email, make_rows, monkeypatch):
    from celery.exceptions import SoftTimeLimitExceeded

    from notifications import channels

    rows = make_rows(3, recipient=patient_email.user, patient=patient_email)
    sent = []

    def email(self, **kwargs):
        if sent:
            raise SoftTimeLimitExceeded()
        sent.append(kwargs["reference"])
        mail.outbox.append(kwargs)

    monkeypatch.setattr(channels.Outbound, "email", email)
    with pytest.raises(SoftTimeLimitExceeded):
        batch(rows)
    statuses = dict(Notification.objects.values_list("pk", "status"))
    assert statuses[rows[0].pk] == Status.SENT
    assert {statuses[r.pk] for r in rows[1:]} == {Status.PENDING}
    assert set(
        Notification.objects.filter(status=Status.PENDING).values_list("attempts", "claim_token")
    ) == {(0, "")}


def test_emails_are_built_and_sent_through_djangos_mail_api(settings):
    """Through the connection's public ``send_messages``: plain ASCII and text needing
    MIME encoding alike, each with the row's stable Message-ID."""
    from notifications import channels

    settings.DEFAULT_FROM_EMAIL = "Clinic <no-reply@example.org>"
    with channels.Outbound() as out:
        out.email(to="robin@example.org", subject="A reminder", body="Hi Robin", reference="n7")
        out.email(to="zoe@example.org", subject="Rappel: séance", body="Hi Zoë", reference="n8")
    plain, encoded = (m.message() for m in mail.outbox)
    assert plain["Message-ID"] == "<n7@stepwise.notifications>"
    assert plain["From"] == "Clinic <no-reply@example.org>" and plain["To"] == "robin@example.org"
    assert encoded["Message-ID"] == "<n8@stepwise.notifications>"
    assert mail.outbox[1].subject == "Rappel: séance" and mail.outbox[1].body == "Hi Zoë"


def test_a_non_ascii_reminder_still_goes_out_over_smtp(patient_email, make_rows, smtp_server):
    patient_email.preferred_name = "Zoë"
    patient_email.save(update_fields=["preferred_name"])
    rows = make_rows(1, recipient=patient_email.user, patient=patient_email)
    assert set(batch(rows).values()) == {"sent"}
    (received,) = smtp_server.messages
    assert "Zoë" in received.get_payload(decode=True).decode()
