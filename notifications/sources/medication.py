"""MAT injection due: a patient reminder 3 days before ``next_injection_due`` at 09:00
site time (``patients.MedicationOrder``, planned on its ``post_save``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, time, timedelta
from typing import Any

from django.utils import timezone

from core import clock
from core.clock import local_datetime
from patients.models import INJECTABLE_MEDICATIONS, MedicationOrder

from ..models import Kind, Notification
from ..outbox import Planned, pending_object_ids, sync_object_reminders
from ..preferences import channels_for, preference_for
from ..registry import Recheck, ReminderSource, register
from .common import patient_reachable

INJECTION_REMINDER_DAYS_BEFORE = 3
INJECTION_REMINDER_AT = time(9, 0)  # site-local wall clock
MEDICATION_ORDER = "patients.MedicationOrder"


def injection_reminder_at(order: MedicationOrder) -> datetime:
    assert order.next_injection_due is not None
    day = order.next_injection_due - timedelta(days=INJECTION_REMINDER_DAYS_BEFORE)
    return local_datetime(day, INJECTION_REMINDER_AT, order.patient.site.tz)


def plan_medication_order(order_id: int, *, now: datetime | None = None) -> dict[str, int]:
    """Re-planned when the date changes (the old row is cancelled, the new one created);
    cancelled when the order stops before the injection or the patient is discharged."""
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
        and patient_reachable(patient)
        and patient.user is not None
    ):
        pref = preference_for(patient.user)
        planned.append(
            Planned(
                kind=Kind.INJECTION_DUE,
                recipient=patient.user,
                patient=patient,
                due_at=injection_reminder_at(order),
                payload={"due_date": due.isoformat()},
                channels=channels_for(patient.user, pref, patient),
            )
        )
    return sync_object_reminders(
        kind=Kind.INJECTION_DUE,
        object_type=MEDICATION_ORDER,
        object_id=order.pk,
        planned=planned,
        now=now,
        reason="injection date changed, order stopped or patient discharged",
    )


def plan_medication_orders(*, now: datetime | None = None) -> int:
    now = clock.now(now)
    horizon = timezone.localdate(now) - timedelta(days=1)
    order_ids = set(
        MedicationOrder.objects.filter(next_injection_due__gte=horizon).values_list("pk", flat=True)
    )
    # Orders with pending reminders are re-checked too: their date may have been cleared.
    order_ids |= pending_object_ids([Kind.INJECTION_DUE], MEDICATION_ORDER)
    for order_id in sorted(order_ids):
        plan_medication_order(order_id, now=now)
    return len(order_ids)


def plan_for_patient(patient_id: int, now: datetime) -> None:
    order_ids = set(
        MedicationOrder.objects.filter(
            patient_id=patient_id, next_injection_due__isnull=False
        ).values_list("pk", flat=True)
    )
    for order_id in sorted(order_ids):
        plan_medication_order(order_id, now=now)


def still_applies(rows: Sequence[Notification], now: datetime) -> dict[int, Recheck]:
    """The order still says the same injection date and has not stopped before it."""
    orders: dict[int | None, Mapping[str, Any]] = {
        o["pk"]: o
        for o in MedicationOrder.objects.filter(pk__in={r.object_id for r in rows}).values(
            "pk", "next_injection_due", "stop_date"
        )
    }
    result: dict[int, Recheck] = {}
    for row in rows:
        order = orders.get(row.object_id)
        due = (row.payload or {}).get("due_date")
        result[row.pk] = (
            bool(
                order
                and order["next_injection_due"]
                and order["next_injection_due"].isoformat() == due
                and (
                    order["stop_date"] is None or order["stop_date"] >= order["next_injection_due"]
                )
            ),
            {},
        )
    return result


SOURCE = register(
    ReminderSource(
        name="medication",
        kinds=frozenset({Kind.INJECTION_DUE}),
        object_types=frozenset({MEDICATION_ORDER}),
        sweeps=(plan_medication_orders,),
        plan_patient=plan_for_patient,
        still_applies=still_applies,
    )
)
