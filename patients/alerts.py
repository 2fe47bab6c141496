"""Patients' alert rules for the staff home's alert queue (medication orders).

Registered in ``core.alerts.RULES`` when ``DashboardConfig.ready()`` discovers this
module. The orders put each app's rules where the queue has always listed them:
patients, drug testing, recovery, scheduling.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Q, QuerySet
from django.urls import reverse

from core.alerts import Alert, rule
from core.formats import format_day

from .models import INJECTABLE_MEDICATIONS, MedicationOrder, Patient


def chart_url(patient_id: int, anchor: str = "") -> str:
    """The patient's chart, at ``anchor`` if given: where most alerts send staff."""
    return reverse("patients:chart", args=[patient_id]) + (f"#{anchor}" if anchor else "")


@rule(order=10)
def injection_due(patients: QuerySet[Patient], today: date) -> list[Alert]:
    orders = (
        MedicationOrder.objects.filter(
            patient__in=patients,
            medication__in=INJECTABLE_MEDICATIONS,
            next_injection_due__lte=today + timedelta(days=3),
        )
        .filter(Q(stop_date__isnull=True) | Q(stop_date__gte=today))
        .select_related("patient")
    )
    alerts = []
    for order in orders:
        due = order.next_injection_due
        if due is None:  # excluded by the query; this narrows the type
            continue
        overdue = due < today
        alerts.append(
            Alert(
                key=f"injection:{order.pk}:{due.isoformat()}",
                kind="injection_due",
                severity="danger" if overdue else "warning",
                patient_id=order.patient_id,
                patient_name=order.patient.display_name,
                message=(
                    f"{order.name} injection {'overdue since' if overdue else 'due'} "
                    f"{format_day(due, year=False)}"
                ),
                action_url=chart_url(order.patient_id, "medications"),
                action_label="Open medications",
            )
        )
    return alerts
