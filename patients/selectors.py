"""Reads for patients. Access-checking getters live in ``access`` and are re-exported."""

from __future__ import annotations

from datetime import date

from django.db.models import Q

from .access import patient_get_for_user, patients_visible_to
from .models import OPEN_STATUSES, Enrollment, MedicationOrder, Patient

__all__ = [
    "patient_get_for_user",
    "patients_visible_to",
    "current_enrollment",
    "prescribed_medications",
]


def current_enrollment(patient: Patient) -> Enrollment | None:
    return (
        patient.enrollments.filter(status__in=OPEN_STATUSES)
        .select_related("track", "phase")
        .first()
    )


def prescribed_medications(patient_id: int, on: date) -> set[str]:
    """Medication codes active for the patient on a date (drug tests' expected positives)."""
    return set(
        MedicationOrder.objects.filter(patient_id=patient_id, start_date__lte=on)
        .filter(Q(stop_date__isnull=True) | Q(stop_date__gte=on))
        .values_list("medication", flat=True)
    )
