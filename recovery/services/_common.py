"""What every recovery write does: its audit row, the actor checks, storing a checked
upload."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from core import audit
from core.models import User
from patients.access import patients_visible_to
from patients.models import Patient

from ..models import Attachment
from ..uploads import CheckedFile


def _audit(
    action: str,
    *,
    actor: User,
    patient_id: int | None,
    site_id: int | None,
    obj: models.Model,
    **detail: Any,
) -> None:
    audit.record(
        action=action, actor=actor, patient_id=patient_id, site_id=site_id, obj=obj, detail=detail
    )


def _require_staff(actor: User, patient: Patient | None = None) -> None:
    """Reviews are staff work; a patient can never review their own record."""
    if actor is None or not actor.is_clinic_staff:
        raise ValidationError("Only clinic staff can do this.")
    if patient is not None and patient.user_id is not None and patient.user_id == actor.pk:
        raise ValidationError("You cannot review your own record.")


def _require_actor_for(actor: User, patient: Patient) -> None:
    """The patient themself (portal) or staff who may see the patient."""
    if actor.pk is not None and actor.pk == patient.user_id:
        return
    if actor.is_clinic_staff and patients_visible_to(actor).filter(pk=patient.pk).exists():
        return
    raise ValidationError("You do not have access to this patient.")


def _store(
    checked: CheckedFile, *, actor: User, site_id: int, patient_id: int | None, now: datetime
) -> Attachment:
    attachment = Attachment(
        site_id=site_id,
        patient_id=patient_id,
        original_name=checked.original_name,
        content_type=checked.content_type,
        size=checked.size,
        sha256=checked.sha256,
        uploaded_by=actor,
        uploaded_at=now,
    )
    checked.upload.seek(0)
    attachment.file.save(f"upload.{checked.extension}", checked.upload, save=False)
    attachment.save()
    return attachment
