"""Domain events to planning: other apps' writes trigger a re-plan once they COMMIT.

Receivers only register an on-commit callback that queues a planning task (ids only).
A rolled-back write therefore plans nothing; a write whose callback is lost (process
died right after the commit, broker down) is caught by the hourly ``replan_all``.
Nothing here edits another app's code: ``NotificationsConfig.ready()`` connects these
receivers to the other apps' signals (scheduling, drugtests, recovery and patients sit
below notifications and know nothing of it).
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models.signals import post_save

from drugtests.models import Draw, Selection
from drugtests.signals import draw_completed
from patients.models import Enrollment, MedicationOrder, Patient
from records.models import SigningCode
from records.signals import signing_code_issued
from recovery.models import HomeworkAssignment
from scheduling.models import Attendance, Session, SessionStatus

from . import channels, privacy, tasks
from .models import NotificationPreference
from .signals import preferences_updated

logger = logging.getLogger(__name__)


def _publish(task_name: str, *args: int) -> None:
    try:
        getattr(tasks, task_name).delay(*args)
    except Exception:
        # The write has committed; a broker outage must not turn it into an error page.
        logger.exception(
            "notifications: could not queue %s%s (the re-plan will catch up)", task_name, args
        )


def enqueue(task_name: str, *args: int) -> None:
    """Queue a planning task once the current transaction commits (now, outside one)."""
    # ``_publish`` is looked up when the commit runs: tests run the tasks in-process.
    transaction.on_commit(lambda: _publish(task_name, *args), robust=True)


def medication_order_saved(
    sender: type[MedicationOrder], instance: MedicationOrder, raw: bool = False, **kwargs: Any
) -> None:
    if not raw:
        enqueue("plan_medication_order", instance.pk)


def enrollment_saved(
    sender: type[Enrollment], instance: Enrollment, raw: bool = False, **kwargs: Any
) -> None:
    # Discharge, hold, re-admission: re-plan (cancels what no longer applies).
    if not raw:
        enqueue("plan_patient", instance.patient_id)


def patient_saved(
    sender: type[Patient],
    instance: Patient,
    raw: bool = False,
    created: bool = False,
    **kwargs: Any,
) -> None:
    # A portal account linked, or a phone/email changed: channels may change.
    if not (raw or created):
        enqueue("plan_patient", instance.pk)


def preferences_saved(sender: type[NotificationPreference], patient_id: int, **kwargs: Any) -> None:
    enqueue("plan_patient", patient_id)


def session_saved(
    sender: type[Session], instance: Session, raw: bool = False, **kwargs: Any
) -> None:
    if raw:
        return
    enqueue("plan_session", instance.pk)  # withdraws reminders of a cancelled one
    if instance.status == SessionStatus.CANCELLED:
        # Scheduling sends no signal of its own for a cancellation; the planner tells
        # a cancellation made by session_cancel from a session created cancelled.
        enqueue("plan_session_cancelled", instance.pk)


def selection_saved(
    sender: type[Selection], instance: Selection, raw: bool = False, **kwargs: Any
) -> None:
    if not raw:
        enqueue("plan_selection", instance.pk)


def homework_saved(
    sender: type[HomeworkAssignment], instance: HomeworkAssignment, raw: bool = False, **kwargs: Any
) -> None:
    if not raw:
        enqueue("plan_homework", instance.pk)


def attendance_saved(
    sender: type[Attendance], instance: Attendance, raw: bool = False, **kwargs: Any
) -> None:
    if not raw:
        enqueue("plan_absence_alert", instance.pk)


def draw_done(sender: object, draw: Draw, **kwargs: Any) -> None:
    # One planning task per draw (its selections were inserted in bulk), on commit.
    enqueue("plan_draw", draw.pk)


# The one-time code a patient types to sign their plan at the clinic is wanted within
# the minute, by the patient standing there: it is sent on commit, not through the
# outbox's planning (no quiet hours: the patient asked for it), and never stored in
# plain text (the outbox keeps bodies). The wording names no treatment (``privacy``).
SIGNING_CODE_TEXT = "Your Stepwise code is {code}. It expires in {minutes} minutes."


def _send_signing_code(to: str, body: str, reference: str) -> None:
    try:
        channels.sms_backend().send(to, body, reference)
    except Exception:
        # The staff screen offers a new code or the portal password instead.
        logger.exception("notifications: could not send signing code %s", reference)


def signing_code_sent(
    sender: type[SigningCode],
    signing_code: SigningCode,
    patient: Patient,
    code: str,
    minutes: int,
    **kwargs: Any,
) -> None:
    body = privacy.check(SIGNING_CODE_TEXT.format(code=code, minutes=minutes))
    to, reference = patient.phone, f"signing-code-{signing_code.pk}"
    transaction.on_commit(lambda: _send_signing_code(to, body, reference), robust=True)


def connect() -> None:
    post_save.connect(medication_order_saved, sender=MedicationOrder, dispatch_uid="notif_mo")
    post_save.connect(enrollment_saved, sender=Enrollment, dispatch_uid="notif_enrollment")
    post_save.connect(patient_saved, sender=Patient, dispatch_uid="notif_patient")
    post_save.connect(attendance_saved, sender=Attendance, dispatch_uid="notif_att")
    post_save.connect(session_saved, sender=Session, dispatch_uid="notif_session")
    post_save.connect(selection_saved, sender=Selection, dispatch_uid="notif_selection")
    post_save.connect(homework_saved, sender=HomeworkAssignment, dispatch_uid="notif_hw")
    draw_completed.connect(draw_done, dispatch_uid="notif_draw")
    preferences_updated.connect(preferences_saved, dispatch_uid="notif_preferences")
    signing_code_issued.connect(signing_code_sent, dispatch_uid="notif_signing_code")
