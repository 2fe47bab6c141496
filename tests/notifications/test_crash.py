"""Crash test: 1,000 due reminders, a real prefork worker (concurrency 2) SIGKILLed as
a whole process group mid-batch, restarted; every reminder arrives at a real SMTP
server, none is missing, duplicates are no more than the worker's concurrency."""

from __future__ import annotations

import collections
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from notifications import outbox
from notifications.models import Notification, Status
from tests.conftest import wait_for

from .conftest import broker_is_redis
from .workers import kill_group, start_worker, worker_env

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

N = 1000
CONCURRENCY = 2


@pytest.fixture
def workers(tmp_path):
    started = []
    yield started, tmp_path / "worker.log"
    for proc in started:
        kill_group(proc)


def test_sigkill_worker_group_mid_batch_loses_nothing(
    patient_email, make_rows, smtp_server, clean_broker, workers
):
    if connection.vendor != "postgresql" or not broker_is_redis():
        pytest.skip("the crash test needs PostgreSQL and Redis")
    started, log = workers
    smtp_server.reply_delay = 0.005
    t0 = time.monotonic()
    due = timezone.now() - timedelta(minutes=1)
    make_rows(N, recipient=patient_email.user, patient=patient_email, due_at=due)
    expected = {
        f"<n{pk}@stepwise.notifications>"
        for pk in Notification.objects.values_list("pk", flat=True)
    }

    # The beat tick: claims every due row and puts the 1,000 ids on Redis.
    assert len(outbox.notifications_dispatch_due()) == N
    env = worker_env(smtp_server.port)
    started.append(start_worker(env, log, CONCURRENCY))
    wait_for(lambda: len(smtp_server) >= 250, timeout=40)
    t_kill = time.monotonic()
    kill_group(started[-1])  # SIGKILL parent and pool children at once, mid-batch
    at_kill = len(smtp_server)
    stranded = Notification.objects.filter(status=Status.SENDING).count()
    unsent_at_kill = Notification.objects.exclude(status=Status.SENT).count()
    assert 0 < unsent_at_kill < N, "the kill must land mid-batch"

    # The killed worker's reserved messages stay unacknowledged in Redis until the
    # visibility timeout (1 h); the reconciler, after its grace period, re-queues
    # every due row still unsent. (Time is advanced through ``now``, not waited for.)
    later = timezone.now() + outbox.SENDING_LEASE + timedelta(seconds=1)
    recon = outbox.notifications_reconcile(now=later)
    started.append(start_worker(env, log, CONCURRENCY))
    wait_for(lambda: Notification.objects.filter(status=Status.SENT).count() == N, timeout=45)
    time.sleep(0.5)  # let any straggling duplicate copies drain
    kill_group(started[-1])

    received = smtp_server.message_ids()
    counts = collections.Counter(received)
    missing = expected - set(counts)
    duplicates = sum(c - 1 for c in counts.values())
    print(
        f"\ncrash test: {N} due; {at_kill} received before SIGKILL; {stranded} rows "
        f"stranded in 'sending'; reconciler {recon}; {len(received)} received in total, "
        f"{len(counts)} distinct, {len(missing)} missing, {duplicates} duplicates "
        f"(allowed {CONCURRENCY}); killed at {t_kill - t0:.1f} s, done in "
        f"{time.monotonic() - t0:.1f} s"
    )
    assert not missing
    assert set(counts) == expected
    assert duplicates <= CONCURRENCY
    assert not Notification.objects.exclude(status=Status.SENT).exists()
