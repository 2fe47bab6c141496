"""Texts patients send back (the SMS provider's webhook): STOP, START, HELP."""

from __future__ import annotations

import hmac
import re
from datetime import datetime

from django.conf import settings
from django.db import transaction

from core import audit, clock
from patients.models import Patient

from .models import Channel, InboundSms, Notification, NotificationPreference, Status

STOP_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)
START_WORDS = frozenset({"START", "UNSTOP", "YES", "OPTIN"})
HELP_WORDS = frozenset({"HELP", "INFO"})


def phone_digits(number: str) -> str:
    digits = re.sub(r"\D", "", number or "")
    return digits[-10:]  # NANP: compare the last ten digits (+1 or not)


def webhook_secret_ok(given: str) -> bool:
    # The shared secret the provider sends with inbound texts (header or ?token=).
    expected: str = settings.SMS_WEBHOOK_SECRET
    # No secret configured: the webhook is off (never open to anyone).
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


@transaction.atomic(durable=True)  # the webhook's whole write: STOP must commit before we answer
def inbound_sms_record(
    *,
    from_number: str,
    to_number: str,
    body: str,
    provider_id: str = "",
    now: datetime | None = None,
) -> InboundSms:
    """Log a text and act on STOP/START: STOP withdraws SMS for every account on that number."""
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
    digits = phone_digits(from_number)
    users: list[tuple[Patient, int]] = []  # each patient on that number, with its account
    if len(digits) >= 7:
        for patient in (
            Patient.objects.filter(user__isnull=False)
            .exclude(phone="")
            .only("pk", "phone", "user_id", "site_id")
        ):
            if patient.user_id is not None and phone_digits(patient.phone) == digits:
                users.append((patient, patient.user_id))
    log = InboundSms.objects.create(
        received_at=now,
        from_number=from_number[:32],
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
