"""The alert queue follows the domain's events: each write that can raise or resolve an
alert names its patients (or the attendance marks, tests or sessions they come from),
and one reconcile task per transaction is queued when it commits.

The receivers read nothing (the writes' pinned query counts stay as they are): the task
turns attendance, test and session ids into patients. A rolled-back write queues nothing.
The sweep (``tasks.alerts_sweep``) catches what no event announces (time passing) and
what a lost message missed.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.db import transaction
from django.db.models import Model
from django.db.models.signals import post_save

logger = logging.getLogger(__name__)
_local = threading.local()


class _Batch:
    """The ids one transaction's events named; published once, when it commits."""

    def __init__(self) -> None:
        self.ids: dict[str, set[int]] = {"patient": set(), "attendance": set(), "selection": set()}
        self.ids["session"] = set()
        self.hooks: list[Any] | None = None
        # The same bound method each time, so the batch can find itself among the
        # connection's commit hooks.
        self.publish = self._publish

    def _publish(self) -> None:
        if _local.__dict__.get("batch") is self:
            del _local.batch
        ids = {kind: sorted(v) for kind, v in self.ids.items() if v}
        if ids:
            _send(ids)


def _send(ids: dict[str, list[int]]) -> None:
    from . import tasks

    try:
        tasks.alerts_reconcile_ids.delay(ids)
    except Exception:
        # The write has committed; a broker outage must not turn it into an error page.
        # The sweep reconciles what was not queued.
        logger.exception("alerts: could not queue a reconcile of %s", ids)


def _batch() -> _Batch:
    connection = transaction.get_connection()
    batch: _Batch | None = _local.__dict__.get("batch")
    if batch is not None and connection.in_atomic_block:
        hooks = connection.run_on_commit
        # The same list: nothing committed or rolled back since (a long transaction, a
        # seed, would otherwise scan its hooks on every save).
        if hooks is batch.hooks or any(hook[1] is batch.publish for hook in hooks):
            batch.hooks = hooks
            return batch
    batch = _Batch()
    _local.batch = batch
    # What ``Task.delay_on_commit`` does, made robust: a broker error after the commit
    # is logged, never raised into the request that wrote.
    transaction.on_commit(batch.publish, robust=True)
    batch.hooks = connection.run_on_commit
    return batch


def note(kind: str, ids: list[int] | set[int]) -> None:
    """Reconcile the alerts of these ids (``kind``: patient, attendance, selection,
    session) once the current transaction commits."""
    clean = {int(pk) for pk in ids if pk is not None}
    if clean:
        _batch().ids[kind] |= clean


# --- domain signals ------------------------------------------------------------


def _patients(sender: object, patient_ids: list[int], **kwargs: Any) -> None:
    note("patient", patient_ids)


def _attendance(sender: object, attendance_ids: list[int], **kwargs: Any) -> None:
    note("attendance", attendance_ids)


def _selections(sender: object, selection_ids: list[int], **kwargs: Any) -> None:
    note("selection", selection_ids)


def _safety_event(sender: object, safety_event: Any, **kwargs: Any) -> None:
    note("patient", [safety_event.patient_id])


def _administration(sender: object, administration: Any, **kwargs: Any) -> None:
    note("patient", [administration.patient_id])


def _membership(sender: object, enrollment: Any, **kwargs: Any) -> None:
    note("patient", [enrollment.patient_id])


# --- saves of the models the rules read ------------------------------------------


def _saved_with_patient(sender: type[Model], instance: Any, raw: bool = False, **kw: Any) -> None:
    if not raw:
        note("patient", [instance.patient_id])


def _saved_patient(sender: type[Model], instance: Any, raw: bool = False, **kw: Any) -> None:
    if not raw:
        note("patient", [instance.pk])


def _saved_session(sender: type[Model], instance: Any, raw: bool = False, **kw: Any) -> None:
    if not raw and instance.pk:
        note("session", [instance.pk])


def _saved_submission(sender: type[Model], instance: Any, raw: bool = False, **kw: Any) -> None:
    # Only when the assignment is at hand: a lookup here would add a query to every
    # submission; the sweep catches the rest.
    if not raw and type(instance).assignment.is_cached(instance):
        note("patient", [instance.assignment.patient_id])


def connect() -> None:
    from core import signals as core_signals
    from drugtests import signals as drugtests_signals
    from drugtests.models import TestAlert
    from measures import signals as measures_signals
    from measures.models import SafetyEvent
    from patients import signals as patients_signals
    from patients.models import Enrollment, MedicationOrder, Patient, TrackMembership
    from records.models import ProgressNote, Signature, TreatmentPlan
    from recovery.models import HomeworkAssignment, HomeworkSubmission, Meeting
    from scheduling import signals as scheduling_signals
    from scheduling.models import Attendance, Session

    uid = "alerts_reconcile"
    core_signals.test_alerts_resolved.connect(_patients, dispatch_uid=f"{uid}_test_resolved")
    core_signals.safety_followup_recorded.connect(_patients, dispatch_uid=f"{uid}_safety_done")
    scheduling_signals.attendance_recorded.connect(_attendance, dispatch_uid=f"{uid}_attendance")
    drugtests_signals.selection_outcome_changed.connect(
        _selections, dispatch_uid=f"{uid}_selection"
    )
    measures_signals.safety_event_raised.connect(_safety_event, dispatch_uid=f"{uid}_safety")
    measures_signals.administration_completed.connect(
        _administration, dispatch_uid=f"{uid}_administration"
    )
    patients_signals.track_membership_changed.connect(_membership, dispatch_uid=f"{uid}_track")
    for model in (
        TestAlert,
        SafetyEvent,
        Enrollment,
        MedicationOrder,
        TrackMembership,
        ProgressNote,
        Signature,
        TreatmentPlan,
        HomeworkAssignment,
        Meeting,
        Attendance,
    ):
        post_save.connect(
            _saved_with_patient, sender=model, dispatch_uid=f"{uid}_{model._meta.label_lower}"
        )
    post_save.connect(_saved_patient, sender=Patient, dispatch_uid=f"{uid}_patient")
    post_save.connect(_saved_session, sender=Session, dispatch_uid=f"{uid}_session")
    post_save.connect(_saved_submission, sender=HomeworkSubmission, dispatch_uid=f"{uid}_sub")
