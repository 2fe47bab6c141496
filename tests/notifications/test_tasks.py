"""Task wiring: the beat entries name real tasks, the send task is acks_late with
reject_on_worker_lost, and nothing is scheduled with a long eta/countdown."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

from clinic.celery import app
from notifications import sending, tasks

NOTIFICATION_BEAT = {
    "notifications.tasks.dispatch_due",
    "notifications.tasks.reconcile",
    "notifications.tasks.replan_all",
}


def test_beat_entries_name_registered_tasks_with_expiry():
    app.loader.import_default_modules()
    entries = {e["task"]: e for e in settings.CELERY_BEAT_SCHEDULE.values()}
    for name in NOTIFICATION_BEAT:
        assert name in app.tasks, name
        assert entries[name]["options"]["expires"] > 0
    assert entries["notifications.tasks.dispatch_due"]["options"]["expires"] <= 60


@pytest.mark.parametrize("task", [tasks.send_batch, tasks.send_notification])
def test_send_task_is_late_acked_and_requeued_if_the_worker_dies(task):
    assert task.acks_late is True
    assert task.reject_on_worker_lost is True
    assert task.time_limit and task.time_limit * 1000 < 10 * 60 * 1000  # below the lease
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1


def test_a_batch_stops_handing_out_messages_inside_the_soft_time_limit():
    from notifications import channels

    # The last send may start just before the budget ends and time out twice.
    worst = sending.SEND_BUDGET_SECONDS + 2 * channels.SEND_TIMEOUT_SECONDS
    assert tasks.send_batch.soft_time_limit > worst


def test_no_long_eta_or_countdown_anywhere_in_the_app():
    source = "\n".join(p.read_text() for p in Path(tasks.__file__).parent.rglob("*.py"))
    assert not re.search(r"\b(eta|countdown)\s*=", source)
