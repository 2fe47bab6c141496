"""What reminders should exist, per source object. Each planner computes the wanted set
and hands it to ``services.sync_object_reminders``, so running it again (on every
change, and in the hourly re-plan) changes nothing unless the source changed.

Implemented kinds: MAT injection due (``patients.MedicationOrder``). The kinds whose
source lives in scheduling / drugtests / recovery are planned in ``planning_ext``
when those apps' models exist.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.utils import timezone

from core import clock
from core.clock import local_datetime
from patients.models import INJECTABLE_MEDICATIONS, OPEN_STATUSES, MedicationOrder, Patient

from . import services
from .models import Kind, Notification, Status

INJECTION_REMINDER_DAYS_BEFORE = 3
INJECTION_REMINDER_AT = time(9, 0)  # site-local wall clock
MEDICATION_ORDER = "patients.MedicationOrder"


def _patient_reachable(patient: Patient) -> bool:
    return (
        patient.user_id is not None
        and not patient.is_archived
        and patient.enrollments.filter(status__in=OPEN_STATUSES).exists()
    )


def injection_reminder_at(order: MedicationOrder) -> datetime:
    day = order.next_injection_due - timedelta(days=INJECTION_REMINDER_DAYS_BEFORE)
    return local_datetime(day, INJECTION_REMINDER_AT, order.patient.site.tz)


def plan_medication_order(order_id: int, *, now: datetime | None = None) -> dict:
    """Patient reminder 3 days before ``next_injection_due`` at 09:00 site time.

    Re-planned when the date changes (the old row is cancelled, the new one created);
    cancelled when the order stops before the injection or the patient is discharged.
    """
    now = clock.now(now)
    order = (
        MedicationOrder.objects.select_related("patient__site", "patient__user")
        .filter(pk=order_id)
        .first()
    )
    if order is None:
        return {}
    planned = []
    due = order.next_injection_due
    patient = order.patient
    if (
        due is not None
        and order.medication in INJECTABLE_MEDICATIONS
        and (order.stop_date is None or order.stop_date >= due)
        and due >= timezone.localdate(now, patient.site.tz)
        and _patient_reachable(patient)
    ):
        pref = services.preference_for(patient.user)
        planned.append(
            services.Planned(
                kind=Kind.INJECTION_DUE,
                recipient=patient.user,
                patient=patient,
                due_at=injection_reminder_at(order),
                payload={"due_date": due.isoformat()},
                channels=services.channels_for(patient.user, pref, patient),
            )
        )
    return services.sync_object_reminders(
        kind=Kind.INJECTION_DUE,
        object_type=MEDICATION_ORDER,
        object_id=order.pk,
        planned=planned,
        now=now,
        reason="injection date changed, order stopped or patient discharged",
    )


def plan_patient(patient_id: int, *, now: datetime | None = None) -> None:
    """Re-plan everything about one patient (after a discharge, a preference change...)."""
    now = clock.now(now)
    patient = Patient.objects.filter(pk=patient_id).first()
    if patient is None:
        return
    order_ids = set(
        MedicationOrder.objects.filter(
            patient_id=patient_id, next_injection_due__isnull=False
        ).values_list("pk", flat=True)
    )
    for order_id in sorted(order_ids):
        plan_medication_order(order_id, now=now)
    from . import planning_ext

    planning_ext.plan_patient_ext(patient_id, now=now)
    if not _patient_reachable(patient):
        services.cancel_patient_reminders(
            patient_id=patient_id, reason="patient discharged or unreachable", now=now
        )


def replan_all(*, now: datetime | None = None) -> dict:
    """Idempotent full re-plan: the safety net under the event-driven planning."""
    now = clock.now(now)
    horizon = timezone.localdate(now) - timedelta(days=1)
    order_ids = set(
        MedicationOrder.objects.filter(next_injection_due__gte=horizon).values_list("pk", flat=True)
    )
    # Orders with pending reminders are re-checked too: their date may have been cleared.
    order_ids |= set(
        Notification.objects.filter(
            kind=Kind.INJECTION_DUE, object_type=MEDICATION_ORDER, status=Status.PENDING
        ).values_list("object_id", flat=True)
    )
    for order_id in sorted(order_ids):
        plan_medication_order(order_id, now=now)
    from . import planning_ext

    ext = planning_ext.replan_all_ext(now=now)
    return {"medication_orders": len(order_ids), **ext}
