"""Writes for the outbox: plan, dispatch, send, reconcile, resend, preferences, STOP.

The life of a row::

    pending --(beat tick: SKIP LOCKED, queued_at set, id on the broker)-->
    pending --(send task: conditional UPDATE WHERE status='pending')--> sending
    sending --(provider accepted)--> sent            (UPDATE WHERE claim_token = mine)
    sending --(provider error)--> pending later / failed after MAX_ATTEMPTS
    pending --(source changed: re-plan)--> cancelled (revived if it applies again)
    pending --(preferences, quiet hours, no address)--> skipped

Duplicates can only come from a crash between "provider accepted" and "marked sent":
at most one per worker process that dies in that window.
"""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from core import audit

from . import channels, messages, privacy
from .models import (
    MANDATORY_KINDS,
    PATIENT_OPTIONAL_KINDS,
    Channel,
    InboundSms,
    Kind,
    Notification,
    NotificationPreference,
    Status,
)
from .timeutil import in_quiet_hours, quiet_hours_end

logger = logging.getLogger(__name__)

DISPATCH_BATCH = 200
DISPATCH_MAX_ROWS = 10_000
# A row queued this long ago and still pending lost its message (Redis restart,
# publish error): the reconciler lets the next tick queue it again.
RECONCILE_GRACE = timedelta(minutes=5)
# A row claimed this long ago and not finished belongs to a dead worker. Longer than
# the send task's hard time limit, so a live (slow) send is never taken over.
SENDING_LEASE = timedelta(minutes=10)
MAX_ATTEMPTS = 5


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def dedupe_key(
    *, kind: str, object_type: str, object_id, recipient_id: int, channel: str, due_at: datetime
) -> str:
    stamp = due_at.astimezone(ZoneInfo("UTC")).strftime("%Y%m%dT%H%M%SZ")
    return f"{kind}:{object_type}:{object_id}:u{recipient_id}:{channel}:{stamp}"


# --- preferences -------------------------------------------------------------


def preference_for_default(user) -> NotificationPreference:
    return NotificationPreference(user=user, updated_at=timezone.now())


def preference_for(user) -> NotificationPreference:
    """The saved preferences, or the defaults (unsaved) when there are none."""
    pref = NotificationPreference.objects.filter(user=user).first()
    return pref or preference_for_default(user)


def recipient_tz(user, patient=None) -> ZoneInfo:
    if patient is not None:
        return patient.site.tz
    staff = getattr(user, "staff", None)
    if staff is not None:
        site = staff.sites.order_by("pk").first() or staff.organization.sites.order_by("pk").first()
        if site is not None:
            return site.tz
    return ZoneInfo(settings.DEFAULT_SITE_TIME_ZONE)


def address_for(channel: str, user, patient=None) -> str:
    # A staff alert is *about* a patient but goes to the staff member's own address.
    own = patient if patient is not None and patient.user_id == user.pk else None
    if channel == Channel.EMAIL:
        return (own.email if own is not None else "") or user.email
    if channel == Channel.SMS:
        if own is not None:
            return own.phone
        staff = getattr(user, "staff", None)
        return staff.phone if staff is not None else ""
    return ""


def channels_for(user, pref: NotificationPreference, patient=None) -> list[str]:
    """Every reminder goes to the portal list; plus the person's chosen outside channel."""
    chosen = [Channel.IN_APP]
    if pref.channel == Channel.EMAIL and address_for(Channel.EMAIL, user, patient):
        chosen.append(Channel.EMAIL)
    elif (
        pref.channel == Channel.SMS and pref.sms_allowed and address_for(Channel.SMS, user, patient)
    ):
        chosen.append(Channel.SMS)
    return chosen


@transaction.atomic
def preference_update(
    *,
    actor,
    user,
    channel: str,
    disabled_kinds: Iterable[str],
    quiet_start: time | None,
    quiet_end: time | None,
    sms_consent: bool,
    now: datetime | None = None,
) -> NotificationPreference:
    now = _now(now)
    if channel not in Channel.values:
        raise ValidationError({"channel": "Choose how you want to be reminded."})
    if (quiet_start is None) != (quiet_end is None):
        raise ValidationError({"quiet_end": "Give both the start and the end of quiet hours."})
    disabled = sorted({k for k in disabled_kinds if k in PATIENT_OPTIONAL_KINDS})
    pref, _ = NotificationPreference.objects.select_for_update().get_or_create(
        user=user, defaults={"updated_at": now}
    )
    if channel == Channel.SMS and not sms_consent:
        raise ValidationError({"sms_consent": "Text messages need your consent."})
    changed = []
    if sms_consent and not pref.sms_allowed:
        # A new consent (also after a STOP): recorded with its date.
        pref.sms_consent_at, pref.sms_opted_out_at = now, None
        changed.append("sms_consent")
    elif not sms_consent and pref.sms_consent_at is not None and pref.sms_opted_out_at is None:
        pref.sms_opted_out_at = now
        changed.append("sms_withdrawn")
    pref.channel = channel
    pref.disabled_kinds = disabled
    pref.quiet_start, pref.quiet_end = quiet_start, quiet_end
    pref.updated_at = now
    pref.save()
    patient = getattr(user, "patient_record", None)
    audit.record(
        action="notifications.preferences_updated",
        actor=actor,
        patient_id=patient.pk if patient else None,
        site_id=patient.site_id if patient else None,
        obj=pref,
        detail={"channel": channel, "disabled_kinds": disabled, "changes": changed},
    )
    if patient is not None:
        from .hooks import enqueue_plan_patient

        enqueue_plan_patient(patient.pk)
    return pref


# --- planning ----------------------------------------------------------------


@dataclass
class Planned:
    """One reminder that should exist (per channel) for an object."""

    kind: str
    recipient: object
    due_at: datetime
    patient: object | None = None
    payload: dict = field(default_factory=dict)
    channels: Sequence[str] = (Channel.IN_APP,)
    pref: NotificationPreference | None = None  # fetched by the caller in bulk
    tz: ZoneInfo | None = None


def _deliver_after(kind: str, channel: str, due_at: datetime, pref, tz) -> datetime:
    # The check-in notice is the one kind that must get through quiet hours: it waits
    # for them to end. Other kinds are dropped at send time (their portal copy stays).
    if (
        kind == Kind.DRUG_TEST_NOTICE
        and channel != Channel.IN_APP
        and in_quiet_hours(due_at, pref.quiet_start, pref.quiet_end, tz)
    ):
        return quiet_hours_end(due_at, pref.quiet_start, pref.quiet_end, tz)
    return due_at


def sync_object_reminders(
    *,
    kind: str,
    object_type: str,
    object_id: int,
    planned: Sequence[Planned],
    now: datetime | None = None,
    reason: str = "no longer applies",
) -> dict:
    """Make the pending reminders of one object exactly ``planned``; idempotent.

    Missing rows are inserted (a concurrent planner inserting the same key is ignored
    by the unique key), cancelled rows that apply again are revived, pending rows that
    no longer apply are cancelled. Sent rows are history and never touched.
    """
    now = _now(now)
    wanted: dict[str, Notification] = {}
    for plan in planned:
        pref = plan.pref or preference_for(plan.recipient)
        tz = plan.tz or recipient_tz(plan.recipient, plan.patient)
        for channel in plan.channels:
            key = dedupe_key(
                kind=kind,
                object_type=object_type,
                object_id=object_id,
                recipient_id=plan.recipient.pk,
                channel=channel,
                due_at=plan.due_at,
            )
            wanted[key] = Notification(
                kind=kind,
                recipient=plan.recipient,
                patient=plan.patient,
                channel=channel,
                object_type=object_type,
                object_id=object_id,
                due_at=plan.due_at,
                deliver_after=_deliver_after(kind, channel, plan.due_at, pref, tz),
                dedupe_key=key,
                payload=plan.payload,
                created_at=now,
                updated_at=now,
            )
    existing = dict(
        Notification.objects.filter(
            kind=kind, object_type=object_type, object_id=object_id, resend_of__isnull=True
        ).values_list("dedupe_key", "status")
    )
    new = [row for key, row in wanted.items() if key not in existing]
    Notification.objects.bulk_create(new, ignore_conflicts=True)
    revive = [k for k in wanted if existing.get(k) == Status.CANCELLED]
    revived = Notification.objects.filter(dedupe_key__in=revive, status=Status.CANCELLED).update(
        status=Status.PENDING, queued_at=None, last_error="", updated_at=now
    )
    stale = [k for k, status in existing.items() if k not in wanted and status == Status.PENDING]
    cancelled = Notification.objects.filter(dedupe_key__in=stale, status=Status.PENDING).update(
        status=Status.CANCELLED, last_error=reason[:300], updated_at=now
    )
    return {"created": len(new), "revived": revived, "cancelled": cancelled}


def cancel_patient_reminders(*, patient_id: int, reason: str, now: datetime | None = None) -> int:
    now = _now(now)
    return Notification.objects.filter(
        patient_id=patient_id, status=Status.PENDING, resend_of__isnull=True
    ).update(status=Status.CANCELLED, last_error=reason[:300], updated_at=now)


# --- dispatch (beat tick) ----------------------------------------------------


def enqueue_send(ids: Sequence[int]) -> None:
    """Put ids on the broker, over one connection. Only ids travel, never content."""
    from .tasks import send_notification

    with send_notification.app.producer_or_acquire() as producer:
        for pk in ids:
            send_notification.apply_async((pk,), producer=producer)


def notifications_dispatch_due(
    *,
    now: datetime | None = None,
    batch_size: int = DISPATCH_BATCH,
    max_rows: int = DISPATCH_MAX_ROWS,
) -> list[int]:
    """Claim due rows in batches and queue their ids once each transaction commits.

    ``SKIP LOCKED`` lets two dispatchers (two beats by mistake, or a reconciler beside
    the tick) run at once: each takes rows the other has not locked, and a row taken
    is marked ``queued_at`` in the same transaction, so it is queued once.
    """
    now = _now(now)
    dispatched: list[int] = []
    while len(dispatched) < max_rows:
        with transaction.atomic():
            ids = list(
                Notification.objects.select_for_update(skip_locked=True)
                .filter(status=Status.PENDING, queued_at__isnull=True, deliver_after__lte=now)
                .order_by("deliver_after", "pk")
                .values_list("pk", flat=True)[:batch_size]
            )
            if not ids:
                break
            Notification.objects.filter(pk__in=ids).update(queued_at=now)
            transaction.on_commit(partial(enqueue_send, ids))
        dispatched.extend(ids)
    return dispatched


def notifications_reconcile(
    *,
    now: datetime | None = None,
    grace: timedelta = RECONCILE_GRACE,
    lease: timedelta = SENDING_LEASE,
) -> dict:
    """Re-queue due rows still unsent: lost messages and claims of dead workers."""
    now = _now(now)
    lost = Notification.objects.filter(status=Status.PENDING, queued_at__lt=now - grace).update(
        queued_at=None
    )
    # The claimant died (or its message is gone) between claim and "sent": send again.
    # If it had already handed the message to the provider this is the one duplicate
    # the design allows per dead worker process.
    orphaned = Notification.objects.filter(
        status=Status.SENDING, claimed_at__lt=now - lease
    ).update(status=Status.PENDING, queued_at=None, claim_token="", updated_at=now)
    dispatched = notifications_dispatch_due(now=now)
    if lost or orphaned:
        logger.warning(
            "notifications reconcile: %s lost messages, %s orphaned claims re-queued",
            lost,
            orphaned,
        )
    return {"lost": lost, "orphaned": orphaned, "dispatched": len(dispatched)}


# --- send (worker) -----------------------------------------------------------


def _finish(pk: int, token: str, **fields) -> bool:
    return bool(
        Notification.objects.filter(pk=pk, status=Status.SENDING, claim_token=token).update(
            updated_at=timezone.now(), **fields
        )
    )


def notification_send(
    *, notification_id: int, claim_token: str, now: datetime | None = None
) -> str:
    """Send one row if it is still due and unsent. Safe to run any number of times.

    The claim is a conditional UPDATE: only one copy of a queued id can move the row
    from ``pending`` to ``sending``. A redelivery of the very message that claimed it
    (same task id, after the worker died) may take the claim over and send again.
    """
    now = _now(now)
    claimed = (
        Notification.objects.filter(pk=notification_id, deliver_after__lte=now)
        .filter(Q(status=Status.PENDING) | Q(status=Status.SENDING, claim_token=claim_token))
        .update(
            status=Status.SENDING,
            claim_token=claim_token,
            claimed_at=now,
            attempts=F("attempts") + 1,
            updated_at=now,
        )
    )
    if not claimed:
        return "not-claimed"
    row = Notification.objects.select_related("recipient", "patient__site").get(pk=notification_id)
    pref = preference_for(row.recipient)
    tz = recipient_tz(row.recipient, row.patient)

    def skip(reason: str) -> str:
        _finish(row.pk, claim_token, status=Status.SKIPPED, last_error=reason)
        return f"skipped: {reason}"

    if not pref.wants(row.kind):
        return skip("switched off by the recipient")
    from .planning_ext import still_applies

    applies, facts = still_applies(row, now)
    if not applies:
        _finish(row.pk, claim_token, status=Status.CANCELLED, last_error="no longer applies")
        return "cancelled: no longer applies"
    if facts:
        row.payload = {**(row.payload or {}), **facts}
    address = ""
    if row.channel != Channel.IN_APP:
        if row.channel == Channel.SMS and not pref.sms_allowed:
            return skip("no SMS consent or opted out")
        address = address_for(row.channel, row.recipient, row.patient)
        if not address:
            return skip(f"no {row.get_channel_display().lower()} address")
        if in_quiet_hours(now, pref.quiet_start, pref.quiet_end, tz):
            if row.kind != Kind.DRUG_TEST_NOTICE:
                return skip("quiet hours")
            later = quiet_hours_end(now, pref.quiet_start, pref.quiet_end, tz)
            _finish(
                row.pk,
                claim_token,
                status=Status.PENDING,
                deliver_after=later,
                queued_at=None,
                claim_token="",
                attempts=F("attempts") - 1,
            )
            return "deferred: quiet hours"
    try:
        subject, body = messages.render_checked(row)
    except privacy.PrivacyViolation as exc:
        logger.error("notification %s not sent: %s", row.pk, exc)
        _finish(row.pk, claim_token, status=Status.FAILED, last_error=str(exc)[:300])
        return "failed: privacy"
    reference = f"n{row.pk}"
    try:
        if row.channel == Channel.EMAIL:
            channels.send_email(to=address, subject=subject, body=body, reference=reference)
        elif row.channel == Channel.SMS:
            channels.send_sms(to=address, body=body, reference=reference)
        # In-app: marking the row sent is the delivery (the portal lists sent rows).
    except Exception as exc:  # any provider error: retry later, give up after MAX_ATTEMPTS
        attempts = Notification.objects.filter(pk=row.pk).values_list("attempts", flat=True)[0]
        error = f"{type(exc).__name__}: {exc}"[:300]
        if attempts >= MAX_ATTEMPTS:
            _finish(row.pk, claim_token, status=Status.FAILED, last_error=error)
            return "failed"
        backoff = timedelta(minutes=min(2**attempts, 30))
        _finish(
            row.pk,
            claim_token,
            status=Status.PENDING,
            deliver_after=now + backoff,
            queued_at=None,
            claim_token="",
            last_error=error,
        )
        return "retry"
    _finish(
        row.pk,
        claim_token,
        status=Status.SENT,
        sent_at=timezone.now(),
        subject=subject,
        body=body,
        last_error="",
    )
    return "sent"


# --- staff actions -------------------------------------------------------------


@transaction.atomic
def notification_resend(
    *, actor, notification: Notification, now: datetime | None = None
) -> Notification:
    """Send a notification again as a NEW row; the original stays as it was."""
    now = _now(now)
    notification = Notification.objects.select_related("patient").get(pk=notification.pk)
    if notification.status in (Status.PENDING, Status.SENDING):
        raise ValidationError("This notification has not been sent yet; it cannot be resent.")
    row = Notification.objects.create(
        kind=notification.kind,
        recipient_id=notification.recipient_id,
        patient_id=notification.patient_id,
        channel=notification.channel,
        object_type=notification.object_type,
        object_id=notification.object_id,
        due_at=now,
        deliver_after=now,
        dedupe_key=f"resend:{notification.pk}:{now.strftime('%Y%m%dT%H%M%S.%fZ')}",
        payload=notification.payload,
        resend_of=notification,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    audit.record(
        action="notifications.resend",
        actor=actor,
        patient_id=notification.patient_id,
        site_id=notification.patient.site_id if notification.patient_id else None,
        obj=row,
        detail={"resend_of": notification.pk, "kind": row.kind, "channel": row.channel},
    )
    return row


def notifications_mark_read(
    *, user, ids: Iterable[int] | None = None, now: datetime | None = None
) -> int:
    qs = Notification.objects.filter(
        recipient=user, channel=Channel.IN_APP, status=Status.SENT, read_at__isnull=True
    )
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=_now(now))


# --- inbound SMS (STOP) ------------------------------------------------------

STOP_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)
START_WORDS = frozenset({"START", "UNSTOP", "YES", "OPTIN"})
HELP_WORDS = frozenset({"HELP", "INFO"})


def phone_digits(number: str) -> str:
    digits = re.sub(r"\D", "", number or "")
    return digits[-10:]  # NANP: compare the last ten digits (+1 or not)


def webhook_secret_ok(given: str) -> bool:
    expected = channels.SMS_WEBHOOK_SECRET
    # No secret configured: the webhook is off (never open to anyone).
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


@transaction.atomic
def inbound_sms_record(
    *,
    from_number: str,
    to_number: str,
    body: str,
    provider_id: str = "",
    now: datetime | None = None,
) -> InboundSms:
    """Log a text and act on STOP/START: STOP withdraws SMS for every account on that number."""
    from patients.models import Patient

    now = _now(now)
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
    users = []
    if len(digits) >= 7:
        for patient in (
            Patient.objects.filter(user__isnull=False)
            .exclude(phone="")
            .only("pk", "phone", "user_id", "site_id")
        ):
            if phone_digits(patient.phone) == digits:
                users.append(patient)
    log = InboundSms.objects.create(
        received_at=now,
        from_number=from_number[:32],
        to_number=to_number[:32],
        keyword=keyword if action != InboundSms.Action.NONE else "",
        action=action,
        matched_users=len(users),
        provider_id=provider_id[:64],
    )
    for patient in users:
        pref, _ = NotificationPreference.objects.select_for_update().get_or_create(
            user_id=patient.user_id, defaults={"updated_at": now}
        )
        if action == InboundSms.Action.OPT_OUT and pref.sms_opted_out_at is None:
            pref.sms_opted_out_at = now
            pref.updated_at = now
            pref.save(update_fields=["sms_opted_out_at", "updated_at"])
            Notification.objects.filter(
                recipient_id=patient.user_id, channel=Channel.SMS, status=Status.PENDING
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


__all__ = [
    "MANDATORY_KINDS",
    "Planned",
    "notification_resend",
    "notification_send",
    "notifications_dispatch_due",
    "notifications_reconcile",
    "sync_object_reminders",
]
