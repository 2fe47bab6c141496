"""What the sources share: who can be reminded, and one patient reminder's plan."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from core.models import User
from patients.models import OPEN_STATUSES, Patient

from ..models import NotificationPreference
from ..outbox import Planned
from ..preferences import channels_for


def reachable(patient_ids: Iterable[int]) -> dict[int, Patient]:
    """Patients with a portal account and an open episode of care (one query)."""
    ids = set(patient_ids)
    if not ids:
        return {}
    return {
        p.pk: p
        for p in Patient.objects.filter(
            pk__in=ids,
            user__isnull=False,
            is_archived=False,
            enrollments__status__in=OPEN_STATUSES,
        )
        .select_related("site", "user")
        .distinct()
    }


def patient_reachable(patient: Patient) -> bool:
    return (
        patient.user_id is not None
        and not patient.is_archived
        and patient.enrollments.filter(status__in=OPEN_STATUSES).exists()
    )


def portal_user(patient: Patient) -> User:
    """The account of a patient found by ``reachable`` (which requires one)."""
    if patient.user is None:
        raise ValueError(f"patient {patient.pk} has no portal account")
    return patient.user


def patient_plan(
    kind: str,
    patient: Patient,
    due_at: datetime,
    pref: NotificationPreference,
    payload: dict[str, Any],
) -> Planned:
    user = portal_user(patient)
    return Planned(
        kind=kind,
        recipient=user,
        patient=patient,
        due_at=due_at,
        payload=payload,
        channels=channels_for(user, pref, patient),
        pref=pref,
    )
