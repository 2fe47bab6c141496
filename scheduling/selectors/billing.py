"""Billing days: attended minutes per patient and day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import QuerySet

from core.models import Site
from patients.models import Patient

from ..models import ATTENDED_STATUSES, Attendance, SessionStatus

# An IOP day (HCPCS H0015) is commonly billable at 3 or more attended hours.
BILLABLE_DAY_MINUTES = 180


@dataclass
class BillingDay:
    patient: Patient
    day: date
    minutes: int
    sessions: int

    @property
    def meets_iop_day(self) -> bool:
        return self.minutes >= BILLABLE_DAY_MINUTES

    @property
    def hours(self) -> str:
        return f"{self.minutes / 60:.2f}"


def billing_days(
    patients: QuerySet[Patient], site: Site, first: date, last: date
) -> list[BillingDay]:
    """Each patient-day with attended minutes at ``site`` between two local dates."""
    rows = (
        Attendance.objects.filter(
            session__site=site,
            session__local_date__gte=first,
            session__local_date__lte=last,
            session__status=SessionStatus.SCHEDULED,
            status__in=list(ATTENDED_STATUSES),
            patient__in=patients,
        )
        .select_related("patient", "session")
        .order_by("session__local_date", "patient__legal_last_name", "patient_id")
    )
    days: dict[tuple[date, int], BillingDay] = {}
    for a in rows:
        key = (a.session.local_date, a.patient_id)
        if key not in days:
            days[key] = BillingDay(
                patient=a.patient, day=a.session.local_date, minutes=0, sessions=0
            )
        days[key].minutes += a.minutes_credited
        days[key].sessions += 1
    return list(days.values())
