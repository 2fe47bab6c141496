"""The writes every kind of signed record shares: a co-signature and an addendum.

Plans (``services.plans``), notes (``services.notes``) and group notes
(``services.groups``) sign their own content; once signed, what may still happen to a
plan version or a note is the same for both and lives here.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from core import clock, limits
from core.models import User
from patients.models import Patient

from ..models import (
    Addendum,
    AddendumKind,
    PlanVersion,
    ProgressNote,
    RecordStatus,
    SignatureMethod,
    SignerRole,
)
from ..signing import addendum_hash, author_credentials, signature_add
from ._common import audit_write, require_clinician, require_cosigner


def _patient_of(target: PlanVersion | ProgressNote) -> Patient:
    return target.plan.patient if isinstance(target, PlanVersion) else target.patient


def _site_id(target: PlanVersion | ProgressNote) -> int:
    if isinstance(target, PlanVersion):
        return target.plan.enrollment.site_id
    return target.site_id


def _label(target: PlanVersion | ProgressNote) -> str:
    return "plan" if isinstance(target, PlanVersion) else "note"


@transaction.atomic
def record_cosign(
    *, actor: User, target: PlanVersion | ProgressNote, now: datetime | None = None
) -> PlanVersion | ProgressNote:
    """Countersign a signed plan version or note whose author needed it.

    A conditional UPDATE (status still signed, nobody has co-signed), so two supervisors
    clicking at once give one co-signature and one clear refusal."""
    now = clock.now(now)
    patient = _patient_of(target)
    require_cosigner(actor, author_id=target.author_id, patient=patient)
    if not target.requires_cosign:
        raise ValidationError(f"This {_label(target)} does not need a co-signature.")
    model = type(target)
    updated = (
        model.objects.filter(pk=target.pk, status=RecordStatus.SIGNED, cosigned_at__isnull=True)
        .exclude(author=actor)
        .update(status=RecordStatus.COSIGNED, cosigned_at=now, cosigned_by=actor)
    )
    if updated != 1:
        raise ValidationError(f"This {_label(target)} is not waiting for a co-signature.")
    target.refresh_from_db()
    signature_add(
        target=target,
        role=SignerRole.COSIGNER,
        method=SignatureMethod.SESSION,
        at=now,
        signer=actor,
    )
    audit_write(
        f"records.{_label(target)}.cosigned",
        actor=actor,
        patient_id=patient.pk,
        site_id=_site_id(target),
        obj=target,
    )
    return target


@transaction.atomic
def addendum_add(
    *,
    actor: User,
    target: PlanVersion | ProgressNote,
    text: str,
    reason: str = "",
    kind: str = AddendumKind.ADDENDUM,
    now: datetime | None = None,
) -> Addendum:
    """A dated, attributed addition to signed content; the original stays untouched.
    A draft is simply edited, so an addendum needs a signed target."""
    now = clock.now(now)
    patient = _patient_of(target)
    require_clinician(actor, patient)
    if target.signed_at is None:
        raise ValidationError(f"This {_label(target)} is still a draft: edit it instead.")
    text = (text or "").strip()
    if not text:
        raise ValidationError("Write the addendum.")
    if len(text) > limits.NOTE:
        raise ValidationError(limits.too_long_message(limits.NOTE, len(text)))
    if kind not in AddendumKind.values:
        raise ValidationError("Choose addendum or late entry.")
    addendum = Addendum(
        note=target if isinstance(target, ProgressNote) else None,
        plan_version=target if isinstance(target, PlanVersion) else None,
        kind=kind,
        text=text,
        reason=(reason or "").strip(),
        author=actor,
        author_credentials=author_credentials(actor),
        written_at=now,
    )
    addendum.content_hash = addendum_hash(addendum)
    addendum.save()
    audit_write(
        f"records.{_label(target)}.addendum",
        actor=actor,
        patient_id=patient.pk,
        site_id=_site_id(target),
        obj=addendum,
        target=target.pk,
        kind=kind,
    )
    return addendum
