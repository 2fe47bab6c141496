"""Celery tasks of the CM ledger: they take ids and call the ledger service.

``acks_late``: a worker that dies mid-run leaves the message to be redelivered, which is
safe because counting is idempotent (a test or a session already in the episode's
ledger appends nothing; the unique indexes are the backstop).
"""

from __future__ import annotations

from celery import shared_task

from .services.ledger import attendances_evaluate, catch_up, selections_evaluate


@shared_task(name="contingency.tasks.cm_selections_evaluate", acks_late=True, ignore_result=True)
def cm_selections_evaluate(selection_ids: list[int]) -> int:
    return selections_evaluate(selection_ids=selection_ids)


@shared_task(name="contingency.tasks.cm_attendances_evaluate", acks_late=True, ignore_result=True)
def cm_attendances_evaluate(attendance_ids: list[int]) -> int:
    return attendances_evaluate(attendance_ids=attendance_ids)


@shared_task(name="contingency.tasks.cm_catch_up", acks_late=True, ignore_result=True)
def cm_catch_up() -> int:
    return catch_up()
