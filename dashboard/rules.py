"""Alert rules for the staff home. Each rule reads other apps' data (read-only) for a
set of patients and returns alerts; each runs a fixed number of queries.

An alert's key names the occurrence (e.g. one order's due date), so resolving the data
(a new due date) makes a new occurrence, and a dismissal never hides a later one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Q, QuerySet
from django.urls import reverse

from core.formats import format_day
from core.registry import Registry
from patients.models import INJECTABLE_MEDICATIONS, MedicationOrder, Patient


@dataclass
class Alert:
    key: str
    kind: str
    severity: str  # "danger" | "warning" | "info"; always shown with words too
    patient_id: int
    patient_name: str
    message: str
    action_url: str
    action_label: str

    @property
    def severity_label(self) -> str:
        return {"danger": "Urgent", "warning": "Action needed", "info": "Note"}[self.severity]


Rule = Callable[[QuerySet[Patient], date], list[Alert]]
# Keyed by the rule's function name, which is how a role's queue picks its rules.
RULES: Registry[Rule] = Registry(unique=True)


def rule(func: Rule) -> Rule:
    return RULES.add(func.__name__, func)


def _chart(patient_id: int, anchor: str = "") -> str:
    return reverse("patients:chart", args=[patient_id]) + (f"#{anchor}" if anchor else "")


@rule
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
                action_url=_chart(order.patient_id, "medications"),
                action_label="Open medications",
            )
        )
    return alerts


def collect_alerts(
    patients: QuerySet[Patient], today: date, *, only: frozenset[str] | None = None
) -> list[Alert]:
    # The rules of dashboard.rules_* register themselves when DashboardConfig.ready imports them.
    rules = [e.value for e in RULES.entries() if only is None or e.key in only]
    alerts = [a for r in rules for a in r(patients, today)]
    order = {"danger": 0, "warning": 1, "info": 2}
    return sorted(alerts, key=lambda a: (order[a.severity], a.patient_name, a.kind))
