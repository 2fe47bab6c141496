"""Writes for the outbox: plan, dispatch, send, reconcile, resend, preferences, STOP.

The life of a row::

    pending --(beat tick: SKIP LOCKED, queued_at set, ids on the broker in batches)-->
    pending --(send_batch: one conditional UPDATE WHERE status='pending')--> sending
    sending --(provider accepted)--> sent            (UPDATE WHERE claim_token = mine)
    sending --(provider error)--> pending later / failed after MAX_ATTEMPTS
    pending --(source changed: re-plan)--> cancelled (revived if it applies again)
    pending --(preferences, quiet hours, no address)--> skipped

Duplicates can only come from a crash between "provider accepted" and "marked sent":
at most one per worker process that dies in that window, or the last fraction of a
second of "sent" marks if the database server itself crashes (see ``_mark_sent``).
"""

from __future__ import annotations

import hmac
import logging
import re
import time as time_module
from collections.abc import Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from core import audit, clock

from . import channels, messages, privacy
from .models import (
    MANDATORY_KINDS,
    PATIENT_OPTIONAL_KINDS,
    WAITS_OUT_QUIET_HOURS,
    Channel,
    InboundSms,
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
# Rows per send task: one claim, a few reads and one SMTP connection for all of them.
SEND_BATCH = 50
# Consecutive provider failures within a batch after which the provider is taken to be
# down and the batch's remaining messages on that channel go back to the queue.
CHANNEL_DOWN_AFTER = 2
# A batch stops handing messages to providers this long after it started, early enough
# that one more send timing out twice still ends inside the task's soft time limit;
# the rest go back to the queue.
SEND_BUDGET_SECONDS = 45.0
UNTRIED_RETRY = timedelta(minutes=1)


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
    now = clock.now(now)
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
    # The check-in notice and a cancellation must get through quiet hours: they wait
    # for them to end. Other kinds are dropped at send time (their portal copy stays).
    if (
        kind in WAITS_OUT_QUIET_HOURS
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
    now = clock.now(now)
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
    now = clock.now(now)
    return Notification.objects.filter(
        patient_id=patient_id, status=Status.PENDING, resend_of__isnull=True
    ).update(status=Status.CANCELLED, last_error=reason[:300], updated_at=now)


# --- dispatch (beat tick) ----------------------------------------------------


def enqueue_send(ids: Sequence[int]) -> None:
    """Put ids on the broker in batches, over one connection. Only ids travel."""
    from .tasks import send_batch

    ids = list(ids)
    with send_batch.app.producer_or_acquire() as producer:
        for start in range(0, len(ids), SEND_BATCH):
            send_batch.apply_async((ids[start : start + SEND_BATCH],), producer=producer)


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
    now = clock.now(now)
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
    now = clock.now(now)
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


def _finish(pks: Sequence[int], token: str, **fields) -> int:
    """Finish rows this claim still holds (a row taken over by the reconciler is not)."""
    return Notification.objects.filter(pk__in=pks, status=Status.SENDING, claim_token=token).update(
        updated_at=timezone.now(), **fields
    )


def _mark_sent(pk: int, token: str, *, subject: str, body: str) -> None:
    """Mark one message sent right after the provider accepted it: this bounds a crash to
    one duplicate, and it is the hot loop of a batch.

    On PostgreSQL, outside any transaction, it is one statement that also skips the wait
    for its own WAL flush (``set_config(..., true)`` lasts for this statement's
    transaction only). Waiting for one disk flush per message was most of a batch's
    time. A killed worker loses nothing (the server applied what it answered); only a
    crash of the database server itself can lose the last fraction of a second of marks
    (about 3 x wal_writer_delay), and those reminders would go out again: duplicates,
    never a loss. Inside a caller's transaction the ORM update is used instead, so no
    other write ever inherits the relaxed commit.
    """
    sent_at = timezone.now()
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        _finish(
            [pk],
            token,
            status=Status.SENT,
            sent_at=sent_at,
            subject=subject,
            body=body,
            last_error="",
        )
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE notifications_notification"
            " SET status = %s, sent_at = %s, updated_at = %s, subject = %s, body = %s,"
            " last_error = ''"
            " WHERE id = %s AND status = %s AND claim_token = %s"
            " RETURNING set_config('synchronous_commit', 'off', true)",
            [Status.SENT, sent_at, sent_at, subject, body, pk, Status.SENDING, token],
        )


def _release_untried(pks: Sequence[int], token: str, *, now: datetime, reason: str) -> None:
    # Claimed but never handed to a provider: back to the queue as they were, so an
    # outage (or a batch cut short) does not use up their attempts.
    _finish(
        pks,
        token,
        status=Status.PENDING,
        deliver_after=now + UNTRIED_RETRY,
        queued_at=None,
        claim_token="",
        attempts=F("attempts") - 1,
        last_error=reason,
    )


def _retry_or_fail(row: Notification, token: str, exc: Exception, now: datetime) -> str:
    error = f"{type(exc).__name__}: {exc}"[:300]
    if row.attempts >= MAX_ATTEMPTS:
        _finish([row.pk], token, status=Status.FAILED, last_error=error)
        return "failed"
    _finish(
        [row.pk],
        token,
        status=Status.PENDING,
        deliver_after=now + timedelta(minutes=min(2**row.attempts, 30)),
        queued_at=None,
        claim_token="",
        last_error=error,
    )
    return "retry"


def notification_send(
    *, notification_id: int, claim_token: str, now: datetime | None = None
) -> str:
    """Send one row (see ``notifications_send_batch``); returns its outcome."""
    return notifications_send_batch(
        notification_ids=[notification_id], claim_token=claim_token, now=now
    )[notification_id]


def notifications_send_batch(
    *,
    notification_ids: Sequence[int],
    claim_token: str,
    now: datetime | None = None,
    budget_seconds: float = SEND_BUDGET_SECONDS,
) -> dict[int, str]:
    """Send the rows among ``notification_ids`` that are still due and unsent; safe to
    run any number of times. Returns each id's outcome.

    The claim is one conditional UPDATE: only one copy of a queued id can move a row
    from ``pending`` to ``sending``. A redelivery of the very message that claimed it
    (same task id, after the worker died) may take over its claim and send again.
    Everything the rows need is read in a handful of queries for the whole batch, the
    emails share one SMTP connection, and each message is marked sent the moment the
    provider accepts it, so a worker killed mid-batch re-sends at most the one message
    that was in flight. A row that cannot be prepared fails on its own; whatever stops
    the batch itself (the soft time limit, a lost database) puts the rows it still
    holds back in the queue at once instead of after the lease.
    """
    started = time_module.monotonic()
    now = clock.now(now)
    ids = list(dict.fromkeys(notification_ids))
    outcomes = dict.fromkeys(ids, "not-claimed")
    Notification.objects.filter(pk__in=ids, deliver_after__lte=now).filter(
        Q(status=Status.PENDING) | Q(status=Status.SENDING, claim_token=claim_token)
    ).update(
        status=Status.SENDING,
        claim_token=claim_token,
        claimed_at=now,
        attempts=F("attempts") + 1,
        updated_at=now,
    )
    rows = list(
        Notification.objects.filter(pk__in=ids, status=Status.SENDING, claim_token=claim_token)
        # staff_profile: the time zone of a staff recipient without a query per row.
        .select_related("recipient__staff_profile", "patient__site")
        .order_by("pk")
    )
    if not rows:
        return outcomes
    try:
        outgoing = _prepare(rows, claim_token, now=now, outcomes=outcomes)
        if outgoing:
            deadline = started + budget_seconds
            outcomes.update(_deliver(outgoing, claim_token, now=now, deadline=deadline))
    except BaseException:
        with suppress(Exception):  # the database may be what failed; then the lease acts
            _release_untried(
                [r.pk for r in rows], claim_token, now=now, reason="not tried: the batch stopped"
            )
        raise
    return outcomes


def _prepare(
    rows: Sequence[Notification], token: str, *, now: datetime, outcomes: dict[int, str]
) -> list[tuple[Notification, str, str, str]]:
    """Decide every claimed row: finished here (skipped, cancelled, failed, deferred,
    in-app sent) or returned as (row, address, subject, body) to be delivered."""
    from .planning_ext import still_applies, still_applies_many

    prefs = {
        p.user_id: p
        for p in NotificationPreference.objects.filter(user_id__in={r.recipient_id for r in rows})
    }
    try:
        applies = still_applies_many(rows, now)
    except Exception:  # one bad source must not hold up the batch: re-check row by row
        logger.exception("notifications: bulk re-check failed; checking rows one by one")
        applies = {}
    staff_tz: dict[int, ZoneInfo] = {}
    ends: dict[str, list[int]] = {}  # outcome -> rows finished the same way
    in_app: list[Notification] = []
    outgoing: list[tuple[Notification, str, str, str]] = []

    def decide(row: Notification) -> None:
        pref = prefs.get(row.recipient_id) or preference_for_default(row.recipient)
        if not pref.wants(row.kind):
            ends.setdefault("skipped: switched off by the recipient", []).append(row.pk)
            return
        ok, facts = applies[row.pk] if row.pk in applies else still_applies(row, now)
        if not ok:
            ends.setdefault("cancelled: no longer applies", []).append(row.pk)
            return
        if facts:
            row.payload = {**(row.payload or {}), **facts}
        address = ""
        if row.channel != Channel.IN_APP:
            if row.channel == Channel.SMS and not pref.sms_allowed:
                ends.setdefault("skipped: no SMS consent or opted out", []).append(row.pk)
                return
            address = address_for(row.channel, row.recipient, row.patient)
            if not address:
                reason = f"skipped: no {row.get_channel_display().lower()} address"
                ends.setdefault(reason, []).append(row.pk)
                return
            if row.patient is not None:
                tz = row.patient.site.tz
            else:
                if row.recipient_id not in staff_tz:
                    staff_tz[row.recipient_id] = recipient_tz(row.recipient)
                tz = staff_tz[row.recipient_id]
            if in_quiet_hours(now, pref.quiet_start, pref.quiet_end, tz):
                if row.kind not in WAITS_OUT_QUIET_HOURS:
                    ends.setdefault("skipped: quiet hours", []).append(row.pk)
                    return
                _finish(
                    [row.pk],
                    token,
                    status=Status.PENDING,
                    deliver_after=quiet_hours_end(now, pref.quiet_start, pref.quiet_end, tz),
                    queued_at=None,
                    claim_token="",
                    attempts=F("attempts") - 1,
                )
                outcomes[row.pk] = "deferred: quiet hours"
                return
        try:
            subject, body = messages.render_checked(row)
        except privacy.PrivacyViolation as exc:
            logger.error("notification %s not sent: %s", row.pk, exc)
            _finish([row.pk], token, status=Status.FAILED, last_error=str(exc)[:300])
            outcomes[row.pk] = "failed: privacy"
            return
        if row.channel == Channel.IN_APP:
            # In-app: marking the row sent is the delivery (the portal lists sent rows).
            row.subject, row.body = subject, body
            in_app.append(row)
        else:
            outgoing.append((row, address, subject, body))

    for row in rows:
        try:
            decide(row)
        except SoftTimeLimitExceeded:
            raise
        except Exception as exc:  # a row that cannot be prepared fails on its own
            logger.exception("notification %s could not be prepared", row.pk)
            outcomes[row.pk] = _retry_or_fail(row, token, exc, now)

    for outcome, pks in ends.items():
        status, _, reason = outcome.partition(": ")
        _finish(pks, token, status=status, last_error=reason)
        outcomes.update(dict.fromkeys(pks, outcome))
    if in_app:
        sent_at = timezone.now()
        for row in in_app:
            row.status, row.sent_at, row.last_error, row.updated_at = (
                Status.SENT,
                sent_at,
                "",
                sent_at,
            )
        Notification.objects.filter(status=Status.SENDING, claim_token=token).bulk_update(
            in_app, ["status", "sent_at", "subject", "body", "last_error", "updated_at"]
        )
        outcomes.update(dict.fromkeys((r.pk for r in in_app), "sent"))
    return outgoing


def _deliver(
    outgoing: Sequence[tuple[Notification, str, str, str]],
    token: str,
    *,
    now: datetime,
    deadline: float,
) -> dict[int, str]:
    outcomes: dict[int, str] = {}
    failures_in_a_row: dict[str, int] = {}
    with channels.Outbound() as out:
        for row, address, subject, body in outgoing:
            # A provider that is down would make every message wait out its timeout
            # (and the batch outlast the task's time limit); after a few failures in a
            # row, or once the batch has run long, the rest go back to the queue.
            if failures_in_a_row.get(row.channel, 0) >= CHANNEL_DOWN_AFTER:
                _release_untried([row.pk], token, now=now, reason="not tried: provider failing")
                outcomes[row.pk] = "retry"
                continue
            if time_module.monotonic() > deadline:
                _release_untried([row.pk], token, now=now, reason="not tried: batch ran long")
                outcomes[row.pk] = "retry"
                continue
            reference = f"n{row.pk}"
            try:
                if row.channel == Channel.EMAIL:
                    out.email(to=address, subject=subject, body=body, reference=reference)
                else:
                    out.sms(to=address, body=body, reference=reference)
            except SoftTimeLimitExceeded:
                raise  # not the provider's fault: the batch's own handler puts rows back
            except Exception as exc:  # any provider error: retry later, give up after MAX_ATTEMPTS
                out.reset()
                failures_in_a_row[row.channel] = failures_in_a_row.get(row.channel, 0) + 1
                outcomes[row.pk] = _retry_or_fail(row, token, exc, now)
                continue
            failures_in_a_row[row.channel] = 0
            _mark_sent(row.pk, token, subject=subject, body=body)
            outcomes[row.pk] = "sent"
    return outcomes


# --- staff actions -------------------------------------------------------------


@transaction.atomic
def notification_resend(
    *, actor, notification: Notification, now: datetime | None = None
) -> Notification:
    """Send a notification again as a NEW row; the original stays as it was."""
    now = clock.now(now)
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
    return qs.update(read_at=clock.now(now))


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
    "notifications_send_batch",
    "notifications_dispatch_due",
    "notifications_reconcile",
    "sync_object_reminders",
]
