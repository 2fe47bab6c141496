"""Writes for break-glass access, disclosures and session control."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from core import audit, clock
from core.models import User
from patients.models import Consent, Patient

from .models import BreakGlassGrant, Disclosure, UserSession

# The notice 42 CFR 2.32 (as amended in 2024) requires on every disclosure made with
# the patient's consent.
PART2_NOTICE = (
    "This record which has been disclosed to you is protected by Federal confidentiality "
    "rules (42 CFR part 2). These rules prohibit you from using or disclosing this record, "
    "or testimony that describes the information contained in this record, in any civil, "
    "criminal, administrative, or legislative proceedings by any Federal, State, or local "
    "authority, against the patient, unless authorized by the consent of the patient, "
    "except as provided at 42 CFR 2.12(c)(5) or as authorized by a court in accordance "
    "with 42 CFR 2.64 or 2.65. In addition, the Federal rules prohibit you from making "
    "any other use or disclosure of this record unless at least one of the following "
    "applies: (A) Further use or disclosure is expressly permitted by the written consent "
    "of the individual whose information is being disclosed in this record or as otherwise "
    "permitted by 42 CFR part 2. (B) You are a covered entity or business associate and "
    "have received the record for treatment, payment, or health care operations, or "
    "(C) You have received the record from a covered entity or business associate as "
    "permitted by 45 CFR part 164, subparts A and E. A general authorization for the "
    "release of medical or other information is NOT sufficient to meet the required "
    "elements of written consent to further use or redisclose the record (see 42 CFR 2.31)."
)


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


@transaction.atomic
def break_glass_grant(
    *,
    user: User,
    patient: Patient,
    reason: str,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> BreakGlassGrant:
    now = clock.now(now)
    reason = reason.strip()
    if len(reason) < 10:
        raise ValidationError({"reason": "Give the clinical reason (at least 10 characters)."})
    staff = user.staff
    if staff is None or staff.organization_id != patient.organization_id:
        raise ValidationError("Emergency access is only for staff of this organisation.")
    grant = BreakGlassGrant.objects.create(
        user=user,
        patient=patient,
        reason=reason,
        granted_at=now,
        expires_at=now + timedelta(hours=settings.BREAK_GLASS_HOURS),
    )
    audit.record(
        action="patient.break_glass",
        actor=user,
        request=request,
        patient_id=patient.pk,
        site_id=patient.site_id,
        obj=grant,
        detail={"hours": settings.BREAK_GLASS_HOURS},
        at=now,
    )
    return grant


@transaction.atomic
def break_glass_review(
    *, grant: BreakGlassGrant, reviewer: User, now: datetime | None = None
) -> BreakGlassGrant:
    now = clock.now(now)
    updated = BreakGlassGrant.objects.filter(pk=grant.pk, reviewed_at__isnull=True).update(
        reviewed_by=reviewer, reviewed_at=now
    )
    if updated:
        audit.record(
            action="break_glass.reviewed", actor=reviewer, patient_id=grant.patient_id, obj=grant
        )
    grant.refresh_from_db()
    return grant


@transaction.atomic
def disclosure_create(
    *,
    actor: User,
    patient: Patient,
    consent: Consent,
    recipient: str,
    purpose: str,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> Disclosure:
    """Record a disclosure; refused unless a current consent covers recipient and purpose."""
    now = clock.now(now)
    today = timezone.localdate(now, patient.site.tz)
    if consent.patient_id != patient.pk:
        raise ValidationError({"consent": "That consent belongs to another patient."})
    if not consent.is_current(today):
        raise ValidationError(
            {"consent": "That consent is not current (expired, revoked or not yet signed)."}
        )
    if _norm(recipient) != _norm(consent.recipient):
        raise ValidationError(
            {"recipient": f"The consent names {consent.recipient} as the only recipient."}
        )
    if _norm(purpose) != _norm(consent.purpose):
        raise ValidationError({"purpose": f"The consent covers only: {consent.purpose}."})
    disclosure = Disclosure.objects.create(
        patient=patient,
        consent=consent,
        recipient=consent.recipient,
        purpose=consent.purpose,
        information_disclosed=consent.information_disclosed,
        disclosed_by=actor,
        disclosed_at=now,
    )
    audit.record(
        action="patient.disclosed",
        actor=actor,
        request=request,
        patient_id=patient.pk,
        site_id=patient.site_id,
        obj=disclosure,
        detail={"consent": consent.pk},
        at=now,
    )
    return disclosure


def sessions_end_for_user(user: User) -> int:
    """End every server-side session of a user (deactivation, password reset)."""
    keys = list(UserSession.objects.filter(user=user).values_list("session_key", flat=True))
    ended, _ = Session.objects.filter(session_key__in=keys).delete()
    UserSession.objects.filter(user=user).delete()
    return ended
