"""Texts patients send back (the SMS provider's webhook): STOP, START, HELP.

Every post is signed by the provider (``webhook_signature_ok``); a secret in the URL is
refused outright, since URLs end up in access logs. The sender is found by number within
the organisation that owns the number texted (``receiving_organization_id``), with one
indexed lookup (``patient_org_phone``): numbers are stored as E.164 (``core.phones``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from core import audit, clock
from core.models import Organization
from core.phones import DEFAULT_REGION, phone_e164_or_none
from patients.models import Patient

from .models import Channel, InboundSms, Notification, NotificationPreference, Status

logger = logging.getLogger(__name__)

STOP_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)
START_WORDS = frozenset({"START", "UNSTOP", "YES", "OPTIN"})
HELP_WORDS = frozenset({"HELP", "INFO"})
# The generic HMAC scheme's timestamp must be this recent: a captured post cannot be
# replayed later (a replayed START would undo a STOP).
HMAC_MAX_AGE_SECONDS = 300


def twilio_signature(url: str, params: Mapping[str, Sequence[str]], key: str) -> str:
    """Twilio's X-Twilio-Signature: base64 HMAC-SHA1, keyed by the auth token, of the full
    URL followed by each form field's name and value, sorted by name (then value)."""
    message = url + "".join(
        name + value for name in sorted(params) for value in sorted(params[name])
    )
    digest = hmac.new(key.encode(), message.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _url_variants(url: str) -> list[str]:
    # Twilio signs the URL as configured; a proxy may add or drop the default port.
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    host = parts.hostname or ""
    variants = [url]
    if default is not None and parts.port in (None, default):
        other = host if parts.port else f"{host}:{default}"
        variants.append(urlunsplit(parts._replace(netloc=other)))
    return variants


def hmac_signature(timestamp: str, body: bytes, key: str) -> str:
    """The generic scheme's X-Stepwise-Signature: hex HMAC-SHA256 of "<timestamp>.<body>"."""
    return hmac.new(key.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def webhook_signature_ok(
    *,
    url: str,
    params: Mapping[str, Sequence[str]],
    body: bytes,
    headers: Mapping[str, str],
    now: datetime | None = None,
) -> bool:
    """Whether the provider signed this post with SMS_WEBHOOK_SECRET (constant-time)."""
    key: str = settings.SMS_WEBHOOK_SECRET
    if not key:  # no secret configured: the webhook is off, never open to anyone
        return False
    if settings.SMS_WEBHOOK_SIGNATURE == "hmac":
        given = headers.get("X-Stepwise-Signature", "").removeprefix("sha256=")
        stamp = headers.get("X-Stepwise-Timestamp", "")
        if not (given and stamp.isdigit()):
            return False
        if abs(clock.now(now).timestamp() - int(stamp)) > HMAC_MAX_AGE_SECONDS:
            return False
        return hmac.compare_digest(given.encode(), hmac_signature(stamp, body, key).encode())
    given = headers.get("X-Twilio-Signature", "")
    if not given:
        return False
    # Every variant is computed and compared, so the time taken says nothing about which.
    results = [
        hmac.compare_digest(given.encode(), twilio_signature(u, params, key).encode())
        for u in _url_variants(url)
    ]
    return any(results)


def receiving_organization_id(to_number: str) -> int | None:
    """The organisation that owns the number a text was sent to: its own text number, or
    one of its sites' numbers; or, for SMS_FROM in a deployment with one organisation, that
    one. None when no organisation owns it (the text is logged and changes nothing)."""
    to = phone_e164_or_none(to_number, region=DEFAULT_REGION)
    if not to:
        return None
    owners = list(
        Organization.objects.filter(Q(sms_number=to) | Q(sites__phone=to))
        .values_list("pk", flat=True)
        .distinct()[:2]
    )
    if len(owners) == 1:
        return owners[0]
    if not owners and to == phone_e164_or_none(settings.SMS_FROM, region=DEFAULT_REGION):
        only = list(Organization.objects.values_list("pk", flat=True)[:2])
        if len(only) == 1:
            return only[0]
    return None


@transaction.atomic(durable=True)  # the webhook's whole write: STOP must commit before we answer
def inbound_sms_record(
    *,
    from_number: str,
    to_number: str,
    body: str,
    provider_id: str = "",
    now: datetime | None = None,
) -> InboundSms:
    """Log a text and act on STOP/START: STOP withdraws SMS for every account on that
    number within the organisation that owns the number texted."""
    now = clock.now(now)
    words = (body or "").strip().upper().split()
    keyword = words[0][:20] if words else ""
    action = InboundSms.Action.NONE
    if keyword in STOP_WORDS:
        action = InboundSms.Action.OPT_OUT
    elif keyword in START_WORDS:
        action = InboundSms.Action.OPT_IN
    elif keyword in HELP_WORDS:
        action = InboundSms.Action.HELP
    sender = phone_e164_or_none(from_number, region=DEFAULT_REGION)
    users: list[tuple[Patient, int]] = []  # each patient on that number, with its account
    if sender and action in (InboundSms.Action.OPT_OUT, InboundSms.Action.OPT_IN):
        organization_id = receiving_organization_id(to_number)
        if organization_id is None:
            logger.warning("sms webhook: a text to a number no organisation owns changed nothing")
        else:
            users = [
                (p, p.user_id)
                for p in Patient.objects.filter(
                    organization_id=organization_id, phone=sender, user__isnull=False
                ).only("pk", "user_id", "site_id")
                if p.user_id is not None
            ]
    log = InboundSms.objects.create(
        received_at=now,
        from_number=(sender or from_number)[:32],
        to_number=to_number[:32],
        keyword=keyword if action != InboundSms.Action.NONE else "",
        action=action,
        matched_users=len(users),
        provider_id=provider_id[:64],
    )
    for patient, user_id in users:
        pref, _ = NotificationPreference.objects.select_for_update().get_or_create(
            user_id=user_id, defaults={"updated_at": now}
        )
        if action == InboundSms.Action.OPT_OUT and pref.sms_opted_out_at is None:
            pref.sms_opted_out_at = now
            pref.updated_at = now
            pref.save(update_fields=["sms_opted_out_at", "updated_at"])
            Notification.objects.filter(
                recipient_id=user_id, channel=Channel.SMS, status=Status.PENDING
            ).update(status=Status.SKIPPED, last_error="opted out by STOP", updated_at=now)
        elif action == InboundSms.Action.OPT_IN and pref.sms_consent_at is not None:
            # START after STOP restores the consent the patient had given (carrier rule).
            pref.sms_opted_out_at = None
            pref.updated_at = now
            pref.save(update_fields=["sms_opted_out_at", "updated_at"])
        else:
            continue
        audit.record(
            action=f"notifications.sms_{action}",
            patient_id=patient.pk,
            site_id=patient.site_id,
            obj=pref,
            actor_label="sms-webhook",
            detail={"inbound": log.pk},
        )
    return log
