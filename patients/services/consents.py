"""42 CFR Part 2 consents to disclose."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from core import audit
from core.clock import site_today
from core.models import User
from core.validators import require_dates_in_range

from ..models import Consent, ConsentSection, Patient, sections_in_order


@transaction.atomic
def consent_create(
    *,
    actor: User | None,
    patient: Patient,
    recipient: str,
    purpose: str,
    information_disclosed: str,
    signed_on: date,
    expires_on: date | None = None,
    sections: Sequence[str] = (),
    now: datetime | None = None,
) -> Consent:
    """Record a signed consent; ``sections`` are the ``ConsentSection`` codes a compliance
    letter under it may report (none: it authorises no letter, only what its words say)."""
    require_dates_in_range(signed_on=signed_on, expires_on=expires_on)
    unknown = sorted(set(sections) - set(ConsentSection.values))
    if unknown:
        raise ValidationError({"sections": f"Unknown sections: {', '.join(unknown)}."})
    if signed_on > site_today(patient.site, now):
        raise ValidationError({"signed_on": "The consent cannot be signed after today."})
    for field, value in (("recipient", recipient), ("purpose", purpose)):
        if not value.strip():
            raise ValidationError({field: "This field is required."})
    if not information_disclosed.strip():
        raise ValidationError({"information_disclosed": "Say what may be disclosed."})
    if expires_on is not None and expires_on < signed_on:
        raise ValidationError({"expires_on": "The consent cannot expire before it was signed."})
    consent = Consent.objects.create(
        patient=patient,
        recipient=recipient,
        purpose=purpose,
        information_disclosed=information_disclosed,
        sections=sections_in_order(list(sections)),
        signed_on=signed_on,
        expires_on=expires_on,
        created_by=actor,
    )
    audit.record(
        action="consent.recorded",
        actor=actor,
        patient_id=patient.pk,
        site_id=patient.site_id,
        obj=consent,
        detail={"sections": consent.sections},
    )
    return consent


@transaction.atomic
def consent_revoke(*, actor: User | None, consent: Consent, revoked_on: date) -> Consent:
    require_dates_in_range(revoked_on=revoked_on)
    consent = (
        Consent.objects.select_for_update(of=("self",)).select_related("patient").get(pk=consent.pk)
    )
    if consent.revoked_on is not None:
        raise ValidationError("This consent was already revoked.")
    if revoked_on < consent.signed_on:
        raise ValidationError({"revoked_on": "A consent cannot be revoked before it was signed."})
    consent.revoked_on = revoked_on
    consent.save(update_fields=["revoked_on"])
    audit.record(
        action="consent.revoked",
        actor=actor,
        patient_id=consent.patient_id,
        site_id=consent.patient.site_id,
        obj=consent,
    )
    return consent
