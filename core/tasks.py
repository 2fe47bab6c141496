"""Celery tasks of core: they take ids or nothing, and call a service."""

from __future__ import annotations

from celery import shared_task

from .heartbeat import beat_heartbeat_record


# The beat schedule (clinic/settings.py) runs this every minute with a short expiry: a
# heartbeat that waited behind a stalled worker must not look fresh when it finally runs.
@shared_task(name="core.tasks.beat_heartbeat", ignore_result=True)
def beat_heartbeat() -> None:
    beat_heartbeat_record()
