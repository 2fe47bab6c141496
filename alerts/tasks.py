"""Celery tasks of the alert queue: they take ids and call the reconcile service.

``acks_late``: a worker that dies mid-run leaves the message to be redelivered, which is
safe because a reconcile is idempotent (the rules' answer for the same data is the same
rows; the unique key is the backstop).
"""

from __future__ import annotations

from celery import shared_task

from drugtests.models import Selection
from patients.models import TrackMembership
from scheduling.models import Attendance, Session

from .services import alerts_reconcile, alerts_sweep


def patient_ids_for(ids: dict[str, list[int]]) -> set[int]:
    """The patients behind an event's ids (at most three queries)."""
    patients = {int(pk) for pk in ids.get("patient", [])}
    if ids.get("attendance"):
        patients |= set(
            Attendance.objects.filter(pk__in=ids["attendance"]).values_list("patient_id", flat=True)
        )
    if ids.get("selection"):
        patients |= set(
            Selection.objects.filter(pk__in=ids["selection"]).values_list("patient_id", flat=True)
        )
    if ids.get("session"):
        # A session added, moved or cancelled changes its roster's week (a schedule now
        # long enough, an attendance no longer owed): everyone on its track, and its patient.
        sessions = list(
            Session.objects.filter(pk__in=ids["session"]).values("track_id", "patient_id")
        )
        patients |= {s["patient_id"] for s in sessions if s["patient_id"]}
        tracks = {s["track_id"] for s in sessions if s["track_id"]}
        if tracks:
            patients |= set(
                TrackMembership.objects.filter(
                    track_id__in=tracks, end_date__isnull=True
                ).values_list("patient_id", flat=True)
            )
    return patients


@shared_task(name="alerts.tasks.alerts_reconcile_ids", acks_late=True, ignore_result=True)
def alerts_reconcile_ids(ids: dict[str, list[int]]) -> int:
    patients = patient_ids_for(ids)
    return alerts_reconcile(patient_ids=patients).changed if patients else 0


@shared_task(name="alerts.tasks.alerts_sweep", acks_late=True, ignore_result=True)
def alerts_sweep_task() -> int:
    return alerts_sweep().changed
