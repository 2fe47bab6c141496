"""Writes for break-glass access, disclosures, two-step verification and session control."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from core import audit, clock, limits
from core.models import AuditEvent, Role, User
from patients.models import Consent, Patient

from . import mfa
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
    information_disclosed: str | None = None,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> Disclosure:
    """Record a disclosure; refused unless a current consent covers recipient and purpose.

    ``information_disclosed`` says what went (a letter's sections and dates); by default
    what the consent allows."""
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
        information_disclosed=limits.clip(
            (information_disclosed or "").strip() or consent.information_disclosed, limits.NOTE
        ),
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


@transaction.atomic
def disclosure_to_patient_record(
    *,
    actor: User,
    patient: Patient,
    information_disclosed: str,
    purpose: str = "The patient's request for their own record",
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> Disclosure:
    """Record that the patient was given their own record (a download from the portal, or
    a copy staff made on their request). It needs no consent, but the patient's
    accounting of disclosures lists it like any other."""
    now = clock.now(now)
    information_disclosed = information_disclosed.strip()[: limits.NOTE]
    disclosure = Disclosure.objects.create(
        patient=patient,
        consent=None,
        to_patient=True,
        recipient=f"{patient.legal_name} (the patient)"[:200],
        purpose=purpose[:200],
        information_disclosed=information_disclosed,
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
        detail={"to_patient": True},
        at=now,
    )
    return disclosure


def sessions_end_for_user(user: User, *, keep: str | None = None) -> int:
    """End every server-side session of a user (deactivation, password reset), or every
    one but ``keep`` (a password change keeps the session it was made in)."""
    tracked = UserSession.objects.filter(user=user).exclude(session_key=keep or "")
    keys = list(tracked.values_list("session_key", flat=True))
    ended, _ = Session.objects.filter(session_key__in=keys).delete()
    tracked.delete()
    return ended


# --- passwords ------------------------------------------------------------------
# Reset requests, links and completions and changes are audited; no row holds the
# password, the token or the address typed.


@transaction.atomic
def password_reset_request(*, email: str, request: HttpRequest | None = None) -> list[int]:
    """Record a reset request and return the accounts the link goes to (often none).

    Active accounts with a usable password and this address, as Django's own reset
    form picks them. The caller queues the email whatever the answer, so a known and an
    unknown address take the same path and the same time."""
    user_ids = [u.pk for u in PasswordResetForm().get_users(email)]
    audit.record(
        action="auth.password_reset_requested", request=request, detail={"user_ids": user_ids}
    )
    return user_ids


def password_reset_lifetime() -> str:
    """How long a reset link works, in words (the email and the pages say it)."""
    seconds: int = settings.PASSWORD_RESET_TIMEOUT
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return f"{hours} hour{'s' if hours != 1 else ''}"
    minutes = max(seconds // 60, 1)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def password_reset_send(*, user_id: int) -> bool:
    """Email one account its reset link (run by the worker); False if it no longer may.

    Not atomic on purpose: the email is not held inside a transaction; the audit row is
    written once it has left. The link is built on STEPWISE_BASE_URL, never on the
    request's Host header, which a forged request could point elsewhere. The text names
    Stepwise only: the recipient may be a patient (notifications/privacy.py's rule)."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.email or not user.has_usable_password():
        return False
    quiet_since = timezone.now() - timedelta(minutes=settings.PASSWORD_RESET_QUIET_MINUTES)
    if AuditEvent.objects.filter(
        action="auth.password_reset_sent",
        object_type=User._meta.label,
        object_id=str(user.pk),
        at__gte=quiet_since,
    ).exists():
        # Asked again within minutes (or in a loop by someone else): the link already
        # sent still works, and the inbox is not flooded.
        return False
    path = reverse(
        "privacy:password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    context = {
        "user": user,
        "url": settings.STEPWISE_BASE_URL.rstrip("/") + path,
        "lifetime": password_reset_lifetime(),
    }
    subject = render_to_string("registration/password_reset_subject.txt", context)
    body = render_to_string("registration/password_reset_email.txt", context)
    send_mail(" ".join(subject.split()), body, None, [user.email])
    audit.record(action="auth.password_reset_sent", obj=user)
    return True


@transaction.atomic
def password_reset_complete(
    *, user: User, password: str, request: HttpRequest | None = None
) -> None:
    """Set the password chosen through a reset link, end every session of the account
    and clear its lockout (the audit row written here is what the lockout counts from,
    core.lockout.CLEARING_ACTIONS)."""
    user.set_password(password)
    user.save(update_fields=["password"])
    ended = sessions_end_for_user(user)
    audit.record(
        action="auth.password_reset_completed",
        actor=user,
        request=request,
        obj=user,
        detail={"sessions_ended": ended},
    )


@transaction.atomic
def password_change(*, user: User, password: str, request: HttpRequest) -> None:
    """A signed-in user's new password: this session goes on, every other one ends."""
    user.set_password(password)
    user.save(update_fields=["password"])
    update_session_auth_hash(request, user)  # gives this session a new key
    current = request.session.session_key
    ended = sessions_end_for_user(user, keep=current)
    if current:
        UserSession.objects.get_or_create(session_key=current, defaults={"user": user})
    audit.record(
        action="auth.password_changed",
        actor=user,
        request=request,
        obj=user,
        detail={"sessions_ended": ended},
    )


# --- two-step verification ----------------------------------------------------------

BACKUP_DEVICE_NAME = "Backup codes"
# A message, not a secret (ruff's S105 reads "TOKEN" as one).
TOKEN_REFUSED = "That code is not valid. Check your device's clock and try again."  # noqa: S105


@transaction.atomic
def mfa_enrol_confirm(
    *, device: TOTPDevice, token: str, request: HttpRequest | None = None
) -> list[str]:
    """Confirm a new authenticator with a code it shows; return the backup codes issued
    with it (shown once, never stored in clear)."""
    if not token.isdigit() or not device.verify_token(token):
        raise ValidationError({"token": TOKEN_REFUSED})
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    audit.record(action="auth.mfa_enrolled", actor=device.user, request=request, obj=device)
    return mfa_backup_codes_issue(user=device.user, request=request)


@transaction.atomic
def mfa_backup_codes_issue(*, user: User, request: HttpRequest | None = None) -> list[str]:
    """Ten new backup codes for ``user``; any earlier ones stop working."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, defaults={"name": BACKUP_DEVICE_NAME, "confirmed": True}
    )
    replaced, _ = StaticToken.objects.filter(device=device).delete()
    codes = [mfa.backup_code_new() for _ in range(mfa.BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(
        StaticToken(device=device, token=mfa.backup_code_digest(mfa.backup_code_normalise(c)))
        for c in codes
    )
    audit.record(
        action="auth.mfa_backup_codes_issued",
        actor=user,
        request=request,
        obj=device,
        detail={"count": len(codes), "replaced": replaced},
    )
    return codes


def _backup_code_consume(user: User, typed: str) -> StaticDevice | None:
    device = StaticDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        return None
    allowed, _ = device.verify_is_allowed()  # django-otp's back-off after failures
    if not allowed:
        return None
    code = mfa.backup_code_normalise(typed)
    used = 0
    if mfa.backup_code_looks_valid(code):
        # The count of rows deleted decides, not a read before it (StaticDevice.verify_token
        # reads then deletes): of two logins racing with one code, only one deletes it.
        tokens = StaticToken.objects.filter(device=device, token=mfa.backup_code_digest(code))
        used, _ = tokens.delete()
    if not used:
        device.throttle_increment()
        return None
    device.throttle_reset(commit=False)
    device.set_last_used_timestamp(commit=False)
    device.save()
    return device


@transaction.atomic
def mfa_verify(*, user: User, token: str, request: HttpRequest | None = None) -> Device | None:
    """The device that accepts ``token`` (an authenticator code, or a backup code, which
    is used up), or None; either way recorded."""
    device: Device | None = None
    method = "totp"
    totp_device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if token.isdigit() and totp_device is not None and totp_device.verify_token(token):
        device = totp_device
    elif not token.isdigit():
        method = "backup_code"
        device = _backup_code_consume(user, token)
    if device is None:
        audit.record(
            action="auth.mfa_failed",
            actor=user,
            request=request,
            outcome=AuditEvent.Outcome.FAILED,
            detail={"method": method},
        )
        return None
    detail: dict[str, object] = {"method": method}
    if method == "backup_code":
        detail["remaining"] = StaticToken.objects.filter(device=device).count()
    audit.record(action="auth.mfa_verified", actor=user, request=request, detail=detail)
    return device


@transaction.atomic
def mfa_reset(*, actor: User, user: User, reason: str, request: HttpRequest | None = None) -> int:
    """A director removes a colleague's authenticator and backup codes (a lost phone) and
    ends their sessions: at their next login they enrol again. Returns the devices removed.

    Devices are credentials, not clinical records: deleting them is the reset.
    """
    reason = reason.strip()
    actor_staff, staff = actor.staff, user.staff
    if (
        actor_staff is None
        or actor_staff.role != Role.DIRECTOR
        or staff is None
        or staff.organization_id != actor_staff.organization_id
    ):
        raise ValidationError("Only a director of the same organisation can reset this.")
    if actor.pk == user.pk:
        raise ValidationError(
            "You cannot reset your own two-step verification: ask another director."
        )
    if len(reason) < 10:
        raise ValidationError({"reason": "Give the reason (at least 10 characters)."})
    removed = 0
    for model in (TOTPDevice, StaticDevice):
        # StaticDevice's tokens go with it (a cascade inside django-otp).
        removed += model.objects.filter(user=user).delete()[1].get(model._meta.label, 0)
    ended = sessions_end_for_user(user)
    audit.record(
        action="auth.mfa_reset",
        actor=actor,
        request=request,
        obj=user,
        detail={"reason": reason, "devices_removed": removed, "sessions_ended": ended},
    )
    return removed
