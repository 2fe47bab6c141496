"""The outbox's rows: plan them, queue the due ones, re-queue the lost ones; resend and
mark read. Sending a queued row is ``sending.py``'s part.

The life of a row::

    pending --(beat tick: SKIP LOCKED, queued_at set, ids on the broker in batches)-->
    pending --(send_batch: one conditional UPDATE WHERE status='pending')--> sending
    sending --(provider accepted)--> sent            (UPDATE WHERE claim_token = mine)
    sending --(provider error)--> pending later / failed after MAX_ATTEMPTS
    pending --(source changed: re-plan)--> cancelled (revived if it applies again)
    pending --(preferences, quiet hours, no address)--> skipped

This module knows rows, recipients and channels, never what a reminder is about: the
sources (``sources/``) compute the wanted rows and hand them to ``sync_object_reminders``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from celery import current_app
from django.core.exceptions import ValidationError
from django.db import transaction

from core import audit, clock

from .models import WAITS_OUT_QUIET_HOURS, Channel, Notification, NotificationPreference, Status
from .preferences import preference_for, recipient_tz
from .timeutil import in_quiet_hours, quiet_hours_end

if TYPE_CHECKING:
    from core.models import User
    from patients.models import Patient

logger = logging.getLogger(__name__)

DISPATCH_BATCH = 200
DISPATCH_MAX_ROWS = 10_000
# A row queued this long ago and still pending lost its message (Redis restart,
# publish error): the reconciler lets the next tick queue it again.
RECONCILE_GRACE = timedelta(minutes=5)
# A row claimed this long ago and not finished belongs to a dead worker. Longer than
# the send task's hard time limit, so a live (slow) send is never taken over.
SENDING_LEASE = timedelta(minutes=10)
# Rows per send task: one claim, a few reads and one mail connection for all of them.
SEND_BATCH = 50
# Published by name: the task module sits above this one (it calls into it).
SEND_BATCH_TASK = "notifications.tasks.send_batch"


def dedupe_key(
    *,
    kind: str,
    object_type: str,
    object_id: int | None,
    recipient_id: int,
    channel: str,
    due_at: datetime,
) -> str:
    stamp = due_at.astimezone(ZoneInfo("UTC")).strftime("%Y%m%dT%H%M%SZ")
    return f"{kind}:{object_type}:{object_id}:u{recipient_id}:{channel}:{stamp}"


# --- planning ----------------------------------------------------------------


@dataclass
class Planned:
    """One reminder that should exist (per channel) for an object."""

    kind: str
    recipient: User
    due_at: datetime
    patient: Patient | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    channels: Sequence[str] = (Channel.IN_APP,)
    pref: NotificationPreference | None = None  # fetched by the caller in bulk
    tz: ZoneInfo | None = None


def _deliver_after(
    kind: str, channel: str, due_at: datetime, pref: NotificationPreference, tz: ZoneInfo
) -> datetime:
    # The check-in notice and a cancellation must get through quiet hours: they wait
    # for them to end. Other kinds are dropped at send time (their portal copy stays).
    if (
        kind in WAITS_OUT_QUIET_HOURS
        and channel != Channel.IN_APP
        and pref.quiet_start is not None
        and pref.quiet_end is not None
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
) -> dict[str, int]:
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


def pending_object_ids(kinds: Iterable[str], object_type: str) -> set[int]:
    """Objects with reminders still to go: a sweep re-checks them even when the object
    itself no longer matches (its date cleared, its status changed)."""
    return {
        pk
        for pk in Notification.objects.filter(
            kind__in=list(kinds), object_type=object_type, status=Status.PENDING
        ).values_list("object_id", flat=True)
        if pk is not None
    }


# --- dispatch (beat tick) ----------------------------------------------------


def enqueue_send(ids: Sequence[int]) -> None:
    """Put ids on the broker in batches, over one connection. Only ids travel."""
    task = current_app.tasks[SEND_BATCH_TASK]
    ids = list(ids)
    with task.app.producer_or_acquire() as producer:
        for start in range(0, len(ids), SEND_BATCH):
            task.apply_async((ids[start : start + SEND_BATCH],), producer=producer)


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
        # Durable: each batch must commit (releasing its row locks and queueing its ids)
        # before the next is claimed; inside a caller's transaction nothing would be sent
        # until that caller committed, and the locks would be held all the while.
        with transaction.atomic(durable=True):
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
) -> dict[str, int]:
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


# --- staff and portal actions --------------------------------------------------


@transaction.atomic(durable=True)  # a staff action: its own unit, committed before the send
def notification_resend(
    *, actor: User, notification: Notification, now: datetime | None = None
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
        site_id=notification.patient.site_id if notification.patient is not None else None,
        obj=row,
        detail={"resend_of": notification.pk, "kind": row.kind, "channel": row.channel},
    )
    return row


def notifications_mark_read(
    *, user: User, ids: Iterable[int] | None = None, now: datetime | None = None
) -> int:
    qs = Notification.objects.filter(
        recipient=user, channel=Channel.IN_APP, status=Status.SENT, read_at__isnull=True
    )
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=clock.now(now))
