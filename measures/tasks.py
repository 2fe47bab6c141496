"""Celery tasks: thin wrappers that call a service."""

from __future__ import annotations

from celery import shared_task

from .services.schedules import administrations_make_due


@shared_task(name="measures.tasks.make_due", acks_late=True)
def make_due() -> int:
    """Hourly (beat): each site, once its local morning has come (``SWEEP_LOCAL_HOUR``),
    gets the day's due check-ins; later runs that day make nothing more, so a
    redelivered (acks_late) or repeated run is harmless."""
    return administrations_make_due()
