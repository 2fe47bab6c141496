"""Patients' alert rules for the staff home's alert queue (medication orders).

Registered in ``core.alerts.RULES`` when ``AlertsConfig.ready()`` discovers this
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


@rule(order=11)
def phone_unreadable(patients: QuerySet[Patient], today: date) -> list[Alert]:
    # Numbers on file before numbers were checked that could not be read as one
    # (migration 0004_phone_e164): nothing texts or dials them until someone fixes them.
    rows = (
        patients.filter(~Q(phone_legacy="") | ~Q(emergency_contact_phone_legacy=""))
        .order_by()
        .only("pk", "preferred_name", "legal_first_name", "legal_last_name")
    )
    return [
        Alert(
            key=f"phone_unreadable:{p.pk}",
            kind="phone_unreadable",
            severity="warning",
            patient_id=p.pk,
            patient_name=p.display_name,
            message="A phone number on file is not a valid number",
            action_url=reverse("patients:demographics", args=[p.pk]),
            action_label="Correct the number",
        )
        for p in rows
    ]
