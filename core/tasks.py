"""Celery tasks of core: they take ids or nothing, and call a service."""

from __future__ import annotations

from celery import shared_task

from .audit import seal
from .heartbeat import beat_heartbeat_record


# The beat schedule (clinic/settings.py) runs this every minute with a short expiry: a
# heartbeat that waited behind a stalled worker must not look fresh when it finally runs.
@shared_task(name="core.tasks.beat_heartbeat", ignore_result=True)
def beat_heartbeat() -> None:
    beat_heartbeat_record()


# Every AUDIT_SEAL_SECONDS from beat, expiring before the next: a run that waited is
# dropped and the next seals its rows. Idempotent (only unsealed rows are touched, under
# the sealer's lock), so a redelivery after a lost worker is harmless: acks_late.
@shared_task(name="core.tasks.seal_audit", ignore_result=True, acks_late=True)
def seal_audit() -> None:
    seal(wait=False)
