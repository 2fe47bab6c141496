"""With a real Celery worker (over this run's Redis db) and a real SMTP server:
planning on commit, sending, rollback, and two dispatchers at once."""

from __future__ import annotations

import collections
import threading
import time
from datetime import date, timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from notifications import outbox
from notifications.models import Channel, Kind, Notification, Status
from notifications.privacy import violations
from patients.services.medication import medication_order_create
from tests.conftest import wait_for

from .conftest import broker_is_redis

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def needs_services():
    if connection.vendor != "postgresql" or not broker_is_redis():
        pytest.skip("worker integration tests need PostgreSQL and Redis")


def site_today(patient) -> date:
    return timezone.localdate(timezone.now(), patient.site.tz)


def order_for(patient, nurse, due: date):
    return medication_order_create(
        actor=nurse,
        patient=patient,
        medication="naltrexone_xr",
        dose="380 mg",
        frequency="monthly",
        prescriber="Dr. Example",
        start_date=site_today(patient) - timedelta(days=30),
        next_injection_due=due,
    )


def test_injection_reminder_is_planned_on_commit_and_emailed_by_the_worker(
    clean_broker, smtp_server, patient_email, nurse, celery_worker
):
    # Due in two days: the 3-days-before reminder is already due, so it goes out now.
    order = order_for(patient_email, nurse, site_today(patient_email) + timedelta(days=2))
    rows = wait_for(
        lambda: list(Notification.objects.filter(object_id=order.pk, kind=Kind.INJECTION_DUE))
    )
    assert {r.channel for r in rows} == {Channel.EMAIL, Channel.IN_APP}
    outbox.notifications_dispatch_due()  # what the beat tick runs
    wait_for(
        lambda: Notification.objects.filter(object_id=order.pk, status=Status.SENT).count() == 2
    )
    wait_for(lambda: len(smtp_server) == 1)
    (msg,) = smtp_server.messages
    assert msg["To"] == "robin@example.org"
    assert msg["Subject"] == "Appointment reminder"
    text = msg.get_payload(decode=True).decode()
    assert "Hi Robin" in text and violations(msg["Subject"] + text) == []
    assert patient_email.site.name not in text


def test_rolled_back_write_plans_nothing_even_with_a_worker_running(
    clean_broker, patient_email, nurse, celery_worker
):
    due = site_today(patient_email) + timedelta(days=10)
    with pytest.raises(RuntimeError), transaction.atomic():
        doomed = order_for(patient_email, nurse, due)
        raise RuntimeError("the request failed after the write")
    # A committed write queued after it is planned; the queue is FIFO, so by then
    # anything the rolled-back write had queued would have run too.
    kept = order_for(patient_email, nurse, due)
    wait_for(lambda: Notification.objects.filter(object_id=kept.pk).exists())
    time.sleep(0.3)
    assert not Notification.objects.filter(
        object_type="patients.MedicationOrder", object_id=doomed.pk
    ).exists()
    assert (
        Notification.objects.filter(object_type="patients.MedicationOrder")
        .exclude(object_id=kept.pk)
        .count()
        == 0
    )


@pytest.mark.date_sensitive
def test_two_dispatchers_at_once_deliver_each_reminder_once(
    clean_broker, smtp_server, patient_email, make_rows, celery_worker
):
    due = timezone.now() - timedelta(minutes=1)
    taken: dict[str, list[int]] = {"a": [], "b": []}
    stop = threading.Event()

    def tick_loop(name: str) -> None:
        try:
            while not stop.is_set():
                taken[name].extend(outbox.notifications_dispatch_due(batch_size=15))
                time.sleep(0.005)
        finally:
            connection.close()

    threads = [threading.Thread(target=tick_loop, args=(n,)) for n in taken]
    for t in threads:
        t.start()
    total = 0
    for wave in range(4):  # new due rows keep arriving while both dispatchers run
        make_rows(
            75, recipient=patient_email.user, patient=patient_email, due_at=due, start=wave * 1000
        )
        total += 75
        time.sleep(0.4)
    # Only the rows this test wrote: admitting the patient also plans real reminders
    # (a check-in, a session), and whether one of those is still in the future depends
    # on the date. Counting them made this test fail on every day after 2026-11-22.
    ours = Notification.objects.filter(object_type="test.Object")
    wait_for(lambda: not ours.filter(queued_at__isnull=True).exists(), timeout=60)
    stop.set()
    for t in threads:
        t.join()
    wait_for(lambda: ours.filter(status=Status.SENT).count() == total, timeout=60)
    time.sleep(0.3)
    counts = collections.Counter(smtp_server.message_ids())
    print(
        f"\ntwo dispatchers: a={len(taken['a'])} b={len(taken['b'])} rows, "
        f"{sum(counts.values())} emails"
    )
    assert not set(taken["a"]) & set(taken["b"])
    assert len(taken["a"]) + len(taken["b"]) == total
    assert len(counts) == total and max(counts.values()) == 1
