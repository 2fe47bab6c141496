"""Sending queued rows: claim a batch, decide each row, hand the rest to the providers,
mark each one sent the moment it was accepted. Every row ends with a typed ``Outcome``.

Duplicates can only come from a crash between "provider accepted" and "marked sent":
at most one per worker process that dies in that window, or the last fraction of a
second of "sent" marks if the database server itself crashes (see ``_mark_sent``).
"""

from __future__ import annotations

import logging
import time as time_module
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from celery.exceptions import SoftTimeLimitExceeded
from django.db import connection
from django.db.models import F, Q
from django.utils import timezone

from core import clock, limits
from core.phones import phone_can_text

from . import channels, messages, privacy, registry
from .models import WAITS_OUT_QUIET_HOURS, Channel, Notification, NotificationPreference, Status
from .outcomes import Outcome
from .preferences import address_for, preference_for_default, recipient_tz
from .timeutil import in_quiet_hours, quiet_hours_end

logger = logging.getLogger(__name__)
SUBJECT_MAX = Notification._meta.get_field("subject").max_length or 200

MAX_ATTEMPTS = 5
# Consecutive provider failures within a batch after which the provider is taken to be
# down and the batch's remaining messages on that channel go back to the queue.
CHANNEL_DOWN_AFTER = 2
# A batch stops handing messages to providers this long after it started, early enough
# that one more send timing out twice still ends inside the task's soft time limit;
# the rest go back to the queue.
SEND_BUDGET_SECONDS = 45.0
UNTRIED_RETRY = timedelta(minutes=1)


@dataclass(frozen=True)
class Outgoing:
    """A row ready for a provider, with what it is sent to and what it says."""

    row: Notification
    address: str
    subject: str
    body: str


def _finish(pks: Sequence[int], token: str, **fields: Any) -> int:
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
    # The stored copy of what went out must fit its columns: a reminder that was sent is
    # never turned into a failed write by its own length.
    body = limits.clip(body, limits.MESSAGE)
    subject = limits.clip(subject, SUBJECT_MAX)
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


def _retry_or_fail(row: Notification, token: str, exc: Exception, now: datetime) -> Outcome:
    error = f"{type(exc).__name__}: {exc}"[:300]
    if row.attempts >= MAX_ATTEMPTS:
        _finish([row.pk], token, status=Status.FAILED, last_error=error)
        return Outcome.FAILED
    _finish(
        [row.pk],
        token,
        status=Status.PENDING,
        deliver_after=now + timedelta(minutes=min(2**row.attempts, 30)),
        queued_at=None,
        claim_token="",
        last_error=error,
    )
    return Outcome.RETRY


def notification_send(
    *, notification_id: int, claim_token: str, now: datetime | None = None
) -> Outcome:
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
) -> dict[int, Outcome]:
    """Send the rows among ``notification_ids`` that are still due and unsent; safe to
    run any number of times. Returns each id's outcome.

    The claim is one conditional UPDATE: only one copy of a queued id can move a row
    from ``pending`` to ``sending``. A redelivery of the very message that claimed it
    (same task id, after the worker died) may take over its claim and send again.
    Everything the rows need is read in a handful of queries for the whole batch, the
    emails share one mail connection, and each message is marked sent the moment the
    provider accepts it, so a worker killed mid-batch re-sends at most the one message
    that was in flight. A row that cannot be prepared fails on its own; whatever stops
    the batch itself (the soft time limit, a lost database) puts the rows it still
    holds back in the queue at once instead of after the lease.
    """
    started = time_module.monotonic()
    now = clock.now(now)
    ids = list(dict.fromkeys(notification_ids))
    outcomes = dict.fromkeys(ids, Outcome.NOT_CLAIMED)
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
    rows: Sequence[Notification], token: str, *, now: datetime, outcomes: dict[int, Outcome]
) -> list[Outgoing]:
    """Decide every claimed row: finished here (skipped, cancelled, failed, deferred,
    in-app sent) or returned to be handed to a provider."""
    prefs = {
        p.user_id: p
        for p in NotificationPreference.objects.filter(user_id__in={r.recipient_id for r in rows})
    }
    try:
        applies = registry.still_applies_many(rows, now)
    except Exception:  # one bad source must not hold up the batch: re-check row by row
        logger.exception("notifications: bulk re-check failed; checking rows one by one")
        applies = {}
    staff_tz: dict[int, ZoneInfo] = {}
    ends: dict[Outcome, list[int]] = {}  # rows finished the same way, one UPDATE each
    in_app: list[Notification] = []
    outgoing: list[Outgoing] = []

    def decide(row: Notification) -> None:
        pref = prefs.get(row.recipient_id) or preference_for_default(row.recipient)
        if not pref.wants(row.kind):
            ends.setdefault(Outcome.SKIPPED_SWITCHED_OFF, []).append(row.pk)
            return
        ok, facts = applies[row.pk] if row.pk in applies else registry.still_applies(row, now)
        if not ok:
            ends.setdefault(Outcome.CANCELLED, []).append(row.pk)
            return
        if facts:
            row.payload = {**(row.payload or {}), **facts}
        address = ""
        if row.channel != Channel.IN_APP:
            if row.channel == Channel.SMS and not pref.sms_allowed:
                ends.setdefault(Outcome.SKIPPED_NO_SMS_CONSENT, []).append(row.pk)
                return
            address = address_for(row.channel, row.recipient, row.patient)
            if not address:
                ends.setdefault(Outcome.no_address(row.channel), []).append(row.pk)
                return
            if row.channel == Channel.SMS and not phone_can_text(address):
                # Stored before numbers were checked, or a landline: the provider would
                # refuse it (or bill for it); the row says why nothing went out.
                ends.setdefault(Outcome.SKIPPED_INVALID_PHONE, []).append(row.pk)
                return
            if row.patient is not None:
                tz = row.patient.site.tz
            else:
                if row.recipient_id not in staff_tz:
                    staff_tz[row.recipient_id] = recipient_tz(row.recipient)
                tz = staff_tz[row.recipient_id]
            if (
                pref.quiet_start is not None
                and pref.quiet_end is not None
                and in_quiet_hours(now, pref.quiet_start, pref.quiet_end, tz)
            ):
                if row.kind not in WAITS_OUT_QUIET_HOURS:
                    ends.setdefault(Outcome.SKIPPED_QUIET_HOURS, []).append(row.pk)
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
                outcomes[row.pk] = Outcome.DEFERRED_QUIET_HOURS
                return
        try:
            subject, body = messages.render_checked(row)
        except privacy.PrivacyViolation as exc:
            logger.error("notification %s not sent: %s", row.pk, exc)
            _finish([row.pk], token, status=Status.FAILED, last_error=str(exc)[:300])
            outcomes[row.pk] = Outcome.FAILED_PRIVACY
            return
        if row.channel == Channel.IN_APP:
            # In-app: marking the row sent is the delivery (the portal lists sent rows).
            row.subject, row.body = subject, body
            in_app.append(row)
        else:
            outgoing.append(Outgoing(row, address, subject, body))

    for row in rows:
        try:
            decide(row)
        except SoftTimeLimitExceeded:
            raise
        except Exception as exc:  # a row that cannot be prepared fails on its own
            logger.exception("notification %s could not be prepared", row.pk)
            outcomes[row.pk] = _retry_or_fail(row, token, exc, now)

    for outcome, pks in ends.items():
        _finish(pks, token, status=outcome.status, last_error=outcome.reason)
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
        outcomes.update(dict.fromkeys((r.pk for r in in_app), Outcome.SENT))
    return outgoing


def _deliver(
    outgoing: Sequence[Outgoing],
    token: str,
    *,
    now: datetime,
    deadline: float,
) -> dict[int, Outcome]:
    outcomes: dict[int, Outcome] = {}
    failures_in_a_row: dict[str, int] = {}
    with channels.Outbound() as out:
        for item in outgoing:
            row = item.row
            # A provider that is down would make every message wait out its timeout
            # (and the batch outlast the task's time limit); after a few failures in a
            # row, or once the batch has run long, the rest go back to the queue.
            if failures_in_a_row.get(row.channel, 0) >= CHANNEL_DOWN_AFTER:
                _release_untried([row.pk], token, now=now, reason="not tried: provider failing")
                outcomes[row.pk] = Outcome.RETRY
                continue
            if time_module.monotonic() > deadline:
                _release_untried([row.pk], token, now=now, reason="not tried: batch ran long")
                outcomes[row.pk] = Outcome.RETRY
                continue
            reference = f"n{row.pk}"
            try:
                if row.channel == Channel.EMAIL:
                    out.email(
                        to=item.address, subject=item.subject, body=item.body, reference=reference
                    )
                else:
                    out.sms(to=item.address, body=item.body, reference=reference)
            except SoftTimeLimitExceeded:
                raise  # not the provider's fault: the batch's own handler puts rows back
            except Exception as exc:  # any provider error: retry later, give up after MAX_ATTEMPTS
                out.reset()
                failures_in_a_row[row.channel] = failures_in_a_row.get(row.channel, 0) + 1
                outcomes[row.pk] = _retry_or_fail(row, token, exc, now)
                continue
            failures_in_a_row[row.channel] = 0
            _mark_sent(row.pk, token, subject=item.subject, body=item.body)
            outcomes[row.pk] = Outcome.SENT
    return outcomes
