"""Event-driven planning: other apps' writes trigger a re-plan once they COMMIT.

Receivers only register an on-commit callback that queues a planning task (ids only).
A rolled-back write therefore plans nothing; a write whose callback is lost (process
died right after the commit, broker down) is caught by the hourly ``replan_all``.
Nothing here edits another app's code: receivers are connected in ``apps.ready``.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models.signals import post_save

logger = logging.getLogger(__name__)


def _publish(task_name: str, *args) -> None:
    from . import tasks

    try:
        getattr(tasks, task_name).delay(*args)
    except Exception:
        # The write has committed; a broker outage must not turn it into an error page.
        logger.exception(
            "notifications: could not queue %s%s (the re-plan will catch up)", task_name, args
        )


def _on_commit(task_name: str, *args) -> None:
    transaction.on_commit(lambda: _publish(task_name, *args), robust=True)


def enqueue(task_name: str, *args) -> None:
    _on_commit(task_name, *args)


def enqueue_plan_medication_order(order_id: int) -> None:
    _on_commit("plan_medication_order", order_id)


def enqueue_plan_patient(patient_id: int) -> None:
    _on_commit("plan_patient", patient_id)


def medication_order_saved(sender, instance, raw=False, **kwargs) -> None:
    if raw:
        return
    enqueue_plan_medication_order(instance.pk)


def enrollment_saved(sender, instance, raw=False, **kwargs) -> None:
    # Discharge, hold, re-admission: re-plan (cancels what no longer applies).
    if raw:
        return
    enqueue_plan_patient(instance.patient_id)


def patient_saved(sender, instance, raw=False, created=False, **kwargs) -> None:
    # A portal account linked, or a phone/email changed: channels may change.
    if raw or created:
        return
    enqueue_plan_patient(instance.pk)


def connect() -> None:
    from patients.models import Enrollment, MedicationOrder, Patient

    post_save.connect(medication_order_saved, sender=MedicationOrder, dispatch_uid="notif_mo")
    post_save.connect(enrollment_saved, sender=Enrollment, dispatch_uid="notif_enrollment")
    post_save.connect(patient_saved, sender=Patient, dispatch_uid="notif_patient")
    from . import planning_ext

    connect_ext = getattr(planning_ext, "connect", None)
    if connect_ext is not None:
        connect_ext()
