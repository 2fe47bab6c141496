"""The audit trail: one function writes it, one verifies it.

Each row's HMAC covers its own fields and the previous row's HMAC, so changing a
field, deleting a row or reordering rows breaks the chain at that row. Writers are
serialised (an advisory lock on PostgreSQL; SQLite serialises writers itself) so two
concurrent requests cannot both extend the chain from the same predecessor.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import connection, models, transaction
from django.http import HttpRequest
from django.utils import timezone

from .models import AuditEvent, User

GENESIS = "0" * 64
_Event = TypeVar("_Event", bound=models.Model)
_LOCK_KEY = 0x57E9A0D1  # arbitrary, constant: identifies the audit chain's advisory lock


def _key() -> bytes:
    key: str = settings.AUDIT_HMAC_KEY
    return key.encode()


def _canonical(event: AuditEvent) -> bytes:
    at = event.at.astimezone(UTC).isoformat(timespec="microseconds")
    payload = {
        "seq": event.seq,
        "at": at,
        "actor": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "outcome": event.outcome,
        "patient": event.patient_id,
        "site": event.site_id,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "ip": event.ip,
        "detail": event.detail,
        "prev": event.prev_hash,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()


def compute_hash(event: AuditEvent) -> str:
    return hmac.new(_key(), _canonical(event), hashlib.sha256).hexdigest()


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address: what the audit trail records and the lockout counts by.

    ``REMOTE_ADDR`` unless ``TRUSTED_PROXY_HEADER`` names the header our reverse proxy
    sets. Each proxy appends the address it saw, so the entry ``NUM_PROXIES`` from the
    right is the one the outermost of ours wrote; anything left of it is the client's
    own claim and is ignored. A missing or malformed entry falls back to ``REMOTE_ADDR``.
    """
    if request is None:
        return None
    remote = _valid_ip(request.META.get("REMOTE_ADDR") or "")
    header: str = settings.TRUSTED_PROXY_HEADER
    if not header:
        return remote
    key = header.upper().replace("-", "_")
    if not key.startswith("HTTP_"):
        key = f"HTTP_{key}"
    entries = [e for e in str(request.META.get(key, "")).split(",") if e.strip()]
    proxies: int = settings.NUM_PROXIES
    if len(entries) < proxies:
        return remote
    return _valid_ip(entries[-proxies]) or remote


def record(
    *,
    action: str,
    actor: User | AnonymousUser | None = None,
    request: HttpRequest | None = None,
    patient_id: int | None = None,
    site_id: int | None = None,
    obj: models.Model | None = None,
    outcome: str = AuditEvent.Outcome.OK,
    detail: dict[str, Any] | None = None,
    actor_label: str = "",
    at: datetime | None = None,
) -> AuditEvent:
    """Append one audit row; call it inside the transaction of the write it records."""
    if actor is None and request is not None and request.user.is_authenticated:
        actor = request.user
    return append(
        AuditEvent,
        at=at or timezone.now(),
        actor=actor if isinstance(actor, User) and actor.pk else None,
        actor_label=actor_label or (actor.get_username() if actor is not None else ""),
        action=action,
        outcome=outcome,
        patient_id=patient_id,
        site_id=site_id,
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        ip=client_ip(request),
        detail=detail or {},
    )


def append(model: type[_Event], **fields: Any) -> _Event:
    """Chain one row onto the trail. ``model`` is ``AuditEvent``, or in a data migration
    the historical model from ``apps.get_model("core", "AuditEvent")``, so a migration
    that mends data records what it changed in the same chain."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        last = model._default_manager.order_by("-seq").values_list("seq", "hash").first()
        seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
        event = model(seq=seq, prev_hash=prev, **fields)
        # A historical AuditEvent has the same fields, which is all the hash reads.
        event.hash = compute_hash(cast(AuditEvent, event))  # type: ignore[attr-defined]
        event.save(force_insert=True)
    return event


@dataclass
class ChainProblem:
    seq: int
    problem: str


def _in_seq_order(batch_size: int) -> Iterator[AuditEvent]:
    # Keyset pages: constant memory on a trail of any length, with no cursor held open
    # (server-side cursors are off; see DISABLE_SERVER_SIDE_CURSORS in settings).
    rows = AuditEvent.objects.order_by("seq")
    page = list(rows[:batch_size])  # no lower bound first: a forged seq <= 0 still shows
    while page:
        yield from page
        page = list(rows.filter(seq__gt=page[-1].seq)[:batch_size])


def verify_chain(batch_size: int = 2000) -> Iterator[ChainProblem]:
    """Yield every break in the chain, oldest first."""
    expected_seq, prev = 1, GENESIS
    for event in _in_seq_order(batch_size):
        if event.seq != expected_seq:
            yield ChainProblem(
                expected_seq, f"rows {expected_seq}..{event.seq - 1} are missing (deleted)"
            )
        if event.prev_hash != prev:
            yield ChainProblem(event.seq, "does not link to the row before it")
        if not hmac.compare_digest(compute_hash(event), event.hash):
            yield ChainProblem(event.seq, "was changed after it was written")
        expected_seq, prev = event.seq + 1, event.hash
