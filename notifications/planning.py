"""Planning across the registered sources: one patient, every beat tick, the hourly
re-plan. Each planner is idempotent (``outbox.sync_object_reminders``), so running one
again changes nothing unless its source changed.

Some sources are written with ``bulk_create``/``update`` (no ``post_save``), so a kind
is planned up to three ways: on commit of a write (``receivers``), on every beat tick
for the time-critical ones (the check-in notice, staff alerts: at most a minute late),
and in the hourly re-plan. At send time the source re-checks the row, so a reminder
for something that changed a moment ago is cancelled rather than sent.
"""

from __future__ import annotations

import logging
from datetime import datetime

from core import clock
from patients.models import Patient

from . import registry
from .outbox import cancel_patient_reminders
from .sources.common import patient_reachable

logger = logging.getLogger(__name__)


def plan_patient(patient_id: int, *, now: datetime | None = None) -> None:
    """Re-plan everything about one patient (after a discharge, a preference change...)."""
    now = clock.now(now)
    patient = Patient.objects.filter(pk=patient_id).first()
    if patient is None:
        return
    for source in registry.sources():
        if source.plan_patient is not None:
            source.plan_patient(patient_id, now)
    if not patient_reachable(patient):
        cancel_patient_reminders(
            patient_id=patient_id, reason="patient discharged or unreachable", now=now
        )


def tick(*, now: datetime) -> None:
    """Every beat tick: the kinds that cannot wait for the hourly re-plan."""
    for source in registry.sources():
        for planner in source.every_tick:
            try:
                planner(now=now)
            except Exception:  # one failing source must not stop the dispatch of the others
                logger.exception("notifications: %s failed in the tick", planner.__name__)


def replan_all(*, now: datetime | None = None) -> dict[str, int | str]:
    """Idempotent full re-plan: the safety net under the event-driven planning."""
    now = clock.now(now)
    done: dict[str, int | str] = {}
    for source in registry.sources():
        for planner in source.sweeps:
            try:
                done[planner.__name__] = planner(now=now)
            except Exception:  # one failing source must not stop the re-plan of the others
                logger.exception("notifications: %s failed in the re-plan", planner.__name__)
                done[planner.__name__] = "failed"
    return done
