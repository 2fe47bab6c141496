"""Celery tasks: they take ids, never content, and call a service.

Beat (``CELERY_BEAT_SCHEDULE`` in settings) runs ``dispatch_due`` every minute,
``reconcile`` every 5 minutes and ``replan_all`` hourly. No task is ever scheduled
with a long ``eta``/``countdown``: Redis would redeliver it after its visibility
timeout and run it twice. Due times live in the database.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from celery import Task, shared_task
from django.utils import timezone

from . import outbox, planning, sending
from .outcomes import Outcome
from .sources import alerts, draws, homework, medication, sessions


@shared_task(name="notifications.tasks.dispatch_due", ignore_result=True)
def dispatch_due() -> int:
    now = timezone.now()
    # Sources written without a post_save (bulk draws, alerts) are planned here, at
    # most a minute late; the planners are idempotent.
    planning.tick(now=now)
    return len(outbox.notifications_dispatch_due(now=now))


# acks_late + reject_on_worker_lost: a message is acknowledged only after the sends
# finished, and put back if the worker process dies mid-batch. Safe only because the
# send is idempotent (conditional claim; a finished row is never sent again).
# The hard time limit is below outbox.SENDING_LEASE, so the reconciler never takes
# over the claim of a send that is still running; the batch itself stops handing
# messages out after sending.SEND_BUDGET_SECONDS, inside the soft limit.
SEND_LIMITS: dict[str, Any] = {
    "bind": True,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "ignore_result": True,
    "soft_time_limit": 90,
    "time_limit": 120,
}


# The name is what ``outbox.enqueue_send`` publishes to (outbox.SEND_BATCH_TASK).
@shared_task(name="notifications.tasks.send_batch", **SEND_LIMITS)
def send_batch(self: Task[Any, Any], notification_ids: list[int]) -> dict[str, int]:
    outcomes = sending.notifications_send_batch(
        notification_ids=notification_ids, claim_token=self.request.id or ""
    )
    return dict(Counter(outcomes.values()))


# The one-id task of earlier releases: ids already on the broker during an upgrade
# still arrive here.
@shared_task(name="notifications.tasks.send_notification", **SEND_LIMITS)
def send_notification(self: Task[Any, Any], notification_id: int) -> Outcome:
    return sending.notification_send(
        notification_id=notification_id, claim_token=self.request.id or ""
    )


@shared_task(name="notifications.tasks.reconcile", ignore_result=True)
def reconcile() -> dict[str, int]:
    return outbox.notifications_reconcile()


@shared_task(name="notifications.tasks.replan_all", ignore_result=True)
def replan_all() -> dict[str, int | str]:
    return planning.replan_all()


@shared_task(name="notifications.tasks.plan_medication_order", ignore_result=True)
def plan_medication_order(order_id: int) -> dict[str, int]:
    return medication.plan_medication_order(order_id)


@shared_task(name="notifications.tasks.plan_patient", ignore_result=True)
def plan_patient(patient_id: int) -> None:
    planning.plan_patient(patient_id)


@shared_task(name="notifications.tasks.plan_session", ignore_result=True)
def plan_session(session_id: int) -> int:
    return sessions.plan_sessions([session_id])


@shared_task(name="notifications.tasks.plan_session_cancelled", ignore_result=True)
def plan_session_cancelled(session_id: int) -> int:
    return sessions.plan_session_cancellations([session_id])


@shared_task(name="notifications.tasks.plan_selection", ignore_result=True)
def plan_selection(selection_id: int) -> int:
    return draws.plan_selections([selection_id])


@shared_task(name="notifications.tasks.plan_draw", ignore_result=True)
def plan_draw(draw_id: int) -> int:
    return draws.plan_draw(draw_id)


@shared_task(name="notifications.tasks.plan_homework", ignore_result=True)
def plan_homework(assignment_id: int) -> int:
    return homework.plan_homework([assignment_id])


@shared_task(name="notifications.tasks.plan_absence_alert", ignore_result=True)
def plan_absence_alert(attendance_id: int) -> int:
    return alerts.plan_absence_alerts([attendance_id])
