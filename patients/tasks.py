"""Celery tasks: they take ids or nothing, and call a service."""

from __future__ import annotations

from celery import shared_task

from .services.scheduled_changes import scheduled_changes_apply_due


# acks_late: a worker that dies mid-run leaves the message to be redelivered. Safe
# because applying is idempotent (each change is claimed by a conditional UPDATE).
@shared_task(name="patients.tasks.apply_due_changes", acks_late=True, ignore_result=True)
def apply_due_changes() -> dict[str, int]:
    return scheduled_changes_apply_due()
