"""Contingency management's receivers for lower apps' signals (drugtests and scheduling
never import contingency).

A result, refusal, missed deadline or invalid specimen (drugtests) and an attendance
mark (scheduling) queue the ledger's counting once their transaction commits: a
rolled-back write counts nothing, and the request that entered the result never waits
on the ledger's lock. The task counts only what belongs to an episode, so the receiver
itself reads nothing (the writes' pinned query counts stay as they are).
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)


def _publish(task_name: str, ids: list[int]) -> None:
    from . import tasks

    try:
        getattr(tasks, task_name).delay(ids)
    except Exception:
        # The write has committed; a broker outage must not turn it into an error page.
        # The hourly catch-up (tasks.cm_catch_up) counts what was not queued.
        logger.exception("contingency: could not queue %s%s", task_name, ids)


def enqueue(task_name: str, ids: list[int]) -> None:
    # ``_publish`` is looked up when the commit runs: tests run the task in-process.
    transaction.on_commit(lambda: _publish(task_name, ids), robust=True)


def selection_outcome_changed(sender: object, selection_ids: list[int], **kwargs: Any) -> None:
    if selection_ids:
        enqueue("cm_selections_evaluate", [int(pk) for pk in selection_ids])


def attendance_recorded(sender: object, attendance_ids: list[int], **kwargs: Any) -> None:
    if attendance_ids:
        enqueue("cm_attendances_evaluate", [int(pk) for pk in attendance_ids])


def connect() -> None:
    from drugtests import signals as drugtests_signals
    from scheduling import signals as scheduling_signals

    drugtests_signals.selection_outcome_changed.connect(
        selection_outcome_changed, dispatch_uid="contingency_selection_outcome"
    )
    scheduling_signals.attendance_recorded.connect(
        attendance_recorded, dispatch_uid="contingency_attendance"
    )
