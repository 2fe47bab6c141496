"""The patient's own record: demographics and the portal account."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from core import audit
from core.clock import site_today
from core.models import User
from core.validators import require_dates_in_range

from ..models import MINIMUM_AGE, Patient, age_on
from .errors import ConcurrentEditError


def validate_date_of_birth(born: date, today: date) -> None:
    require_dates_in_range(date_of_birth=born)
    if born > today:
        raise ValidationError({"date_of_birth": "The date of birth is in the future."})
    if age_on(born, today) < MINIMUM_AGE:
        raise ValidationError(
            {"date_of_birth": f"Patients must be at least {MINIMUM_AGE} years old."}
        )


PATIENT_EDITABLE_FIELDS = frozenset(
    {
        "legal_first_name",
        "legal_last_name",
        "preferred_name",
        "date_of_birth",
        "sex",
        "gender_identity",
        "phone",
        "email",
        "preferred_contact",
        "emergency_contact_name",
        "emergency_contact_relationship",
        "emergency_contact_phone",
        "primary_substance",
        "secondary_substance",
        "naloxone_kit_given_on",
        "safety_notes",
    }
)


@transaction.atomic
def patient_update(
    *,
    actor: User | None,
    patient: Patient,
    now: datetime | None = None,
    expected_updated_at: datetime | None = None,
    **changes: Any,
) -> Patient:
    """Change demographics. A form posts the ``updated_at`` it was rendered with: its
    unchanged fields would otherwise silently undo a colleague's save made meanwhile."""
    unknown = set(changes) - PATIENT_EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"not editable here: {sorted(unknown)}")
    require_dates_in_range(**{k: v for k, v in changes.items() if isinstance(v, date)})
    patient = (
        Patient.objects.select_for_update(of=("self",)).select_related("site").get(pk=patient.pk)
    )
    if expected_updated_at is not None and patient.updated_at != expected_updated_at:
        raise ConcurrentEditError(
            "Someone else changed this patient's details while you were editing. "
            "Reload the page and make your change again."
        )
    if "date_of_birth" in changes:
        validate_date_of_birth(changes["date_of_birth"], site_today(patient.site, now))
    changed = [f for f, v in changes.items() if getattr(patient, f) != v]
    for field in changed:
        setattr(patient, field, changes[field])
    if changed:
        patient.save(update_fields=[*changed, "updated_at"])
        # Field names only: the audit trail must not become a second copy of the chart.
        audit.record(
            action="patient.updated",
            actor=actor,
            patient_id=patient.pk,
            site_id=patient.site_id,
            obj=patient,
            detail={"fields": sorted(changed)},
        )
    return patient


@transaction.atomic
def patient_link_portal_account(
    *, actor: User | None, patient: Patient, username: str, password: str | None
) -> User:
    if patient.user_id is not None:
        raise ValidationError("This patient already has a portal account.")
    if User.objects.filter(username=username).exists():
        raise ValidationError({"username": "That username is taken."})
    user = User.objects.create_user(
        username=username,
        password=password,
        first_name=patient.preferred_name or patient.legal_first_name,
        last_name=patient.legal_last_name,
        email=patient.email,
    )
    patient.user = user
    patient.save(update_fields=["user", "updated_at"])
    audit.record(
        action="patient.portal_account_created",
        actor=actor,
        patient_id=patient.pk,
        site_id=patient.site_id,
        obj=patient,
    )
    return user
