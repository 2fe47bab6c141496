"""Lockout after failed logins, counted from the audit trail.

Why not django-axes (the ecosystem's answer)? Every failed login is already an
``auth.login_failed`` row in the HMAC-chained trail (``core.signals``), with the
username tried and the client address; counting those rows is the whole lockout, and
the trail stays the one record of who tried what, which the director reads and
``verify_audit`` checks. Axes would keep a second, editable store of attempts and
addresses, add an authentication backend and middleware in front of ours, and its
reset would leave no row in the trail. Its behaviour is matched here: a lock per
username from one address (``LOGIN_LOCKOUT_ATTEMPTS``), per username from every
address (``LOGIN_LOCKOUT_USER_ATTEMPTS``), a far higher per-address limit against
credential stuffing (``LOGIN_LOCKOUT_IP_ATTEMPTS``), the address read through
``audit.client_ip`` (trusted proxy header only), and an early unlock.

A lock is never stored: it is "enough failures in the last LOGIN_LOCKOUT_MINUTES",
counted from the user's last clearing row (``CLEARING_ACTIONS``: the director's
unlock, a completed password reset), so either makes the count start again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest

from . import audit, clock
from .models import AuditEvent, User

FAILED = "auth.login_failed"
UNLOCKED = "auth.unlocked"
# Rows after which a user's failures no longer count (written by the services that mean it).
CLEARING_ACTIONS = (UNLOCKED, "auth.password_reset_completed")
USER_LABEL = User._meta.label


@dataclass(frozen=True)
class Lock:
    # "address": this username from this address; "account": this username from
    # anywhere; "network": this address, whatever the username.
    scope: str
    until: datetime


def _window() -> timedelta:
    return timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)


def _until(times: list[datetime], limit: int, now: datetime) -> datetime | None:
    """When a lock over ``times`` (failures in the window) ends, or None if not locked.

    Locked while ``limit`` failures are inside the window; it ends when the ``limit``-th
    newest leaves it. Attempts refused while locked are not failures, so they do not
    extend it."""
    if limit <= 0 or len(times) < limit:
        return None
    return sorted(times, reverse=True)[limit - 1] + _window()


def cleared_at(user_ids: list[int]) -> dict[int, datetime]:
    """Each user's last unlock or completed reset (users never cleared are absent)."""
    rows = (
        AuditEvent.objects.filter(
            action__in=CLEARING_ACTIONS,
            object_type=USER_LABEL,
            object_id__in=[str(pk) for pk in user_ids],
        )
        .order_by("id")
        .values_list("object_id", "at")
    )
    return {int(object_id): at for object_id, at in rows}


def _since(username: str, now: datetime) -> datetime:
    start = now - _window()
    user_id = User.objects.filter(username=username).values_list("pk", flat=True).first()
    if user_id is not None:
        cleared = cleared_at([user_id]).get(user_id)
        if cleared is not None and cleared > start:
            return cleared
    return start


def login_lock(*, username: str, ip: str | None, now: datetime | None = None) -> Lock | None:
    """The lock refusing a login as ``username`` from ``ip`` now, if any."""
    now = clock.now(now)
    since = _since(username, now)
    failures = list(
        AuditEvent.objects.filter(action=FAILED, actor_label=username, at__gte=since)
        .values_list("ip", "at")
        # A bound, not a rule: once the account is locked no attempt reaches the
        # password check, so no more failures are written for it.
        .order_by("-at")[
            : max(settings.LOGIN_LOCKOUT_USER_ATTEMPTS, settings.LOGIN_LOCKOUT_ATTEMPTS, 1) * 4
        ]
    )
    from_here = [at for address, at in failures if ip is not None and address == ip]
    until = _until(from_here, settings.LOGIN_LOCKOUT_ATTEMPTS, now)
    if until is not None:
        return Lock("address", until)
    until = _until([at for _, at in failures], settings.LOGIN_LOCKOUT_USER_ATTEMPTS, now)
    if until is not None:
        return Lock("account", until)
    limit = settings.LOGIN_LOCKOUT_IP_ATTEMPTS
    if ip is not None and limit > 0:
        # Only the limit-th newest is needed to know whether, and until when.
        nth = (
            AuditEvent.objects.filter(action=FAILED, ip=ip, at__gte=since)
            .order_by("-at")
            .values_list("at", flat=True)[limit - 1 : limit]
        )
        for at in nth:
            return Lock("network", at + _window())
    return None


@dataclass(frozen=True)
class AccountLock:
    until: datetime
    # Locked from every address, or only from the addresses counted in ``addresses``.
    everywhere: bool
    addresses: int


def account_locks(users: Sequence[User], now: datetime | None = None) -> dict[int, AccountLock]:
    """The users locked out now, by id (for the director's staff-accounts page).

    The network-wide limit is not shown: it belongs to an address, not to a user."""
    now = clock.now(now)
    start = now - _window()
    cleared = cleared_at([u.pk for u in users])
    by_name = {u.username: u for u in users}
    rows = AuditEvent.objects.filter(
        action=FAILED, actor_label__in=list(by_name), at__gte=start
    ).values_list("actor_label", "ip", "at")
    failures: dict[int, list[tuple[str | None, datetime]]] = {}
    for label, address, at in rows:
        user = by_name[label]
        if at >= cleared.get(user.pk, start):
            failures.setdefault(user.pk, []).append((address, at))
    locks: dict[int, AccountLock] = {}
    for user_id, rows_of_user in failures.items():
        everywhere = _until(
            [at for _, at in rows_of_user], settings.LOGIN_LOCKOUT_USER_ATTEMPTS, now
        )
        per_address = Counter(address for address, _ in rows_of_user)
        address_untils = [
            until
            for address in per_address
            if (
                until := _until(
                    [at for a, at in rows_of_user if a == address],
                    settings.LOGIN_LOCKOUT_ATTEMPTS,
                    now,
                )
            )
            is not None
        ]
        if everywhere is not None:
            locks[user_id] = AccountLock(
                max([everywhere, *address_untils]), True, len(address_untils)
            )
        elif address_untils:
            locks[user_id] = AccountLock(max(address_untils), False, len(address_untils))
    return locks


@transaction.atomic
def login_unlock(
    *, user: User, actor: User, request: HttpRequest | None = None, now: datetime | None = None
) -> AuditEvent:
    """Let a locked-out user try again now: their failures so far stop counting.

    The unlock is itself the audit row the lockout counts from (``CLEARING_ACTIONS``)."""
    now = clock.now(now)
    locked = account_locks([user], now).get(user.pk)
    return audit.record(
        action=UNLOCKED,
        actor=actor,
        request=request,
        obj=user,
        detail={"was_locked_until": locked.until.isoformat() if locked else None},
        at=now,
    )
