"""Fixtures for the notifications tests: a real SMTP server on loopback, a clean
test broker, an in-memory SMS backend and a factory of due outbox rows."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from datetime import date, datetime
from email import message_from_bytes
from zoneinfo import ZoneInfo

import pytest

NY = ZoneInfo("America/New_York")
UTC = ZoneInfo("UTC")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Collector:
    """aiosmtpd handler: keeps every message received (thread-safe)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.messages: list = []
        # (envelope sender, recipients, bytes as received) of each message, in order.
        self.envelopes: list[tuple[str, list[str], bytes]] = []
        # Seconds between taking a message and answering 250: widens the window in
        # which a killed sender has delivered but not yet recorded the send.
        self.reply_delay = 0.0

    async def handle_DATA(self, server, session, envelope):
        msg = message_from_bytes(envelope.content)
        with self.lock:
            self.messages.append(msg)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        if self.reply_delay:
            await asyncio.sleep(self.reply_delay)
        return "250 Message accepted for delivery"

    def message_ids(self) -> list[str]:
        with self.lock:
            return [m["Message-ID"] for m in self.messages]

    def __len__(self) -> int:
        with self.lock:
            return len(self.messages)


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server (aiosmtpd) on a free loopback port; Django sends to it."""
    from aiosmtpd.controller import Controller

    logging.getLogger("mail.log").setLevel(logging.WARNING)

    collector = Collector()
    port = free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "core.mail.SMTPEmailBackend"  # the production default
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    collector.port = port
    try:
        yield collector
    finally:
        controller.stop()


def broker_is_redis() -> bool:
    from django.conf import settings

    return settings.CELERY_BROKER_URL.startswith("redis")


@pytest.fixture
def clean_broker():
    """Empty this test run's own Redis db before and after (left-over ids from a
    killed worker would otherwise reach the next test's worker)."""
    from django.conf import settings

    def flush():
        if broker_is_redis():
            import redis

            redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()

    flush()
    yield
    flush()


@pytest.fixture
def sms_outbox(settings):
    from notifications import channels

    settings.STEPWISE_SMS_BACKEND = "locmem"
    channels.sms_outbox.clear()
    yield channels.sms_outbox
    channels.sms_outbox.clear()


@pytest.fixture
def make_rows():
    """Bulk-create ``n`` due outbox rows for one recipient (what a planner would write)."""
    from notifications.models import Channel, Kind, Notification

    def make(n, *, recipient, patient=None, channel=Channel.EMAIL, due_at=None, kind=None, start=0):
        due_at = due_at or datetime(2026, 1, 1, 12, tzinfo=UTC)
        kind = kind or Kind.INJECTION_DUE
        rows = [
            Notification(
                kind=kind,
                recipient=recipient,
                patient=patient,
                channel=channel,
                object_type="test.Object",
                object_id=start + i,
                due_at=due_at,
                deliver_after=due_at,
                dedupe_key=f"{kind}:test.Object:{start + i}:u{recipient.pk}:{channel}:x",
                payload={"due_date": date(2026, 1, 4).isoformat()},
                created_at=due_at,
                updated_at=due_at,
            )
            for i in range(n)
        ]
        return Notification.objects.bulk_create(rows)

    return make


@pytest.fixture
def patient_email(patient):
    """The portal patient, reachable by email, preferring email, no quiet hours."""
    from django.utils import timezone

    from notifications.models import Channel, NotificationPreference

    patient.email = "robin@example.org"
    patient.save(update_fields=["email"])
    NotificationPreference.objects.create(
        user=patient.user,
        channel=Channel.EMAIL,
        quiet_start=None,
        quiet_end=None,
        updated_at=timezone.now(),
    )
    return patient


@pytest.fixture(scope="session", autouse=True)
def _drop_leftover_connections(django_db_setup, django_db_blocker):
    """In-thread Celery workers keep their database connection open (CONN_MAX_AGE);
    at the end of the run they would stop the test database from being dropped."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
