"""What every clinical-record write checks and writes: the author's right to write in
this chart, the audit row in the same transaction."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from core import audit
from core.models import Role, User
from patients.access import patients_visible_to
from patients.models import Patient

# Roles that write clinical documentation (front desk and collectors do not).
CLINICAL_ROLES = frozenset({Role.DIRECTOR, Role.COUNSELOR, Role.MEDICAL})


def audit_write(
    action: str,
    *,
    actor: User | None,
    patient_id: int | None,
    site_id: int | None,
    obj: models.Model,
    **detail: Any,
) -> None:
    audit.record(
        action=action, actor=actor, patient_id=patient_id, site_id=site_id, obj=obj, detail=detail
    )


def require_clinician(actor: User, patient: Patient | None = None) -> None:
    """A clinician of this organisation who may see the patient; never their own chart."""
    staff = actor.staff if actor is not None else None
    if staff is None or not actor.is_active or staff.role not in CLINICAL_ROLES:
        raise ValidationError("Only clinicians write in the clinical record.")
    if patient is not None:
        if patient.user_id is not None and patient.user_id == actor.pk:
            raise ValidationError("You cannot write in your own chart.")
        if not patients_visible_to(actor).filter(pk=patient.pk).exists():
            raise ValidationError("No such patient.")


def require_cosigner(actor: User, *, author_id: int | None, patient: Patient) -> None:
    """A licensed clinician who may see the patient, and not the author: nobody
    countersigns their own work."""
    require_clinician(actor, patient)
    if author_id is not None and actor.pk == author_id:
        raise ValidationError("Nobody co-signs their own note.")
    staff = actor.staff
    if staff is None or not staff.licensed:
        raise ValidationError("Only a licensed clinician can co-sign.")
