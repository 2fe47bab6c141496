"""The audit trail: one function writes it, one seals it, one verifies it.

Writing takes no lock: each row gets ``row_mac``, an HMAC of its own fields under the
keyring's current key (settings.AUDIT_KEYS; ``key_id`` names the key), so any audited
write of any organisation proceeds in parallel with the others. One sealer
(``seal``, every few seconds from Celery beat) then chains the unsealed rows in id order:
``seq``, the previous row's hash, and ``hash`` = HMAC(row's key, seq, id, row_mac,
previous hash), so a deleted, reordered or changed row breaks the chain at that row. Only
the sealer takes the advisory lock. Each row is verified with its own key, so rotating the
key (prepending a new one to AUDIT_KEYS) leaves the older rows verifiable.

Rows written before the keyring (key id ``legacy``, no ``row_mac``) were chained as they
were written: their ``hash`` covers their fields, seq and predecessor directly.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import connection, models, transaction
from django.http import HttpRequest
from django.utils import timezone

from .models import AuditEvent, User

logger = logging.getLogger(__name__)

GENESIS = "0" * 64
LEGACY_KEY_ID = "legacy"
SEAL_BATCH = 2000
_Event = TypeVar("_Event", bound=models.Model)
_LOCK_KEY = 0x57E9A0D1  # arbitrary, constant: identifies the audit chain's advisory lock


class AuditKeyMissing(Exception):
    """A row names a key id that the keyring (AUDIT_KEYS) does not hold."""


def current_key_id() -> str:
    key_id: str = settings.AUDIT_CURRENT_KEY_ID
    return key_id


def _key(key_id: str) -> bytes:
    keys: dict[str, str] = settings.AUDIT_KEYS
    try:
        return keys[key_id].encode()
    except KeyError:
        raise AuditKeyMissing(key_id) from None


def _at(event: AuditEvent) -> str:
    return event.at.astimezone(UTC).isoformat(timespec="microseconds")


def _content(event: AuditEvent) -> dict[str, Any]:
    return {
        "at": _at(event),
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
    }


def _json(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()


def _mac(key_id: str, payload: dict[str, Any]) -> str:
    return hmac.new(_key(key_id), _json(payload), hashlib.sha256).hexdigest()


def compute_row_mac(event: AuditEvent) -> str:
    """The row's own MAC: its fields and its key id, under that key."""
    return _mac(event.key_id, {**_content(event), "key": event.key_id})


def compute_chain_hash(*, key_id: str, seq: int, pk: int, row_mac: str, prev: str) -> str:
    """The seal: a row's MAC bound to its place in the chain, under the row's own key
    (so a retired key still verifies the links it made)."""
    return _mac(key_id, {"seq": seq, "id": pk, "row_mac": row_mac, "prev": prev})


def compute_legacy_hash(event: AuditEvent) -> str:
    """The hash of a row written before the keyring: fields, seq and predecessor at once."""
    return _mac(
        LEGACY_KEY_ID,
        {**_content(event), "seq": event.seq, "prev": event.prev_hash},
    )


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
    """Append one row, unsealed, without a lock. ``model`` is ``AuditEvent``, or in a data
    migration the historical model from ``apps.get_model("core", "AuditEvent")``, so a
    migration that mends data records what it changed in the same trail."""
    if "row_mac" not in {f.name for f in model._meta.fields}:
        return _append_before_keyring(model, **fields)
    event = model(key_id=current_key_id(), **fields)
    # A historical AuditEvent has the same fields, which is all the MAC reads.
    event.row_mac = compute_row_mac(cast(AuditEvent, event))  # type: ignore[attr-defined]
    event.save(force_insert=True)
    return event


def _append_before_keyring(model: type[_Event], **fields: Any) -> _Event:
    # A data migration that runs before core 0012 sees the table as it was then: one
    # chain extended under a lock, with the key of the time.
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        last = model._default_manager.order_by("-seq").values_list("seq", "hash").first()
        seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
        event = model(seq=seq, prev_hash=prev, **fields)
        event.hash = compute_legacy_hash(cast(AuditEvent, event))  # type: ignore[attr-defined]
        event.save(force_insert=True)
    return event


def _lock(wait: bool) -> bool:
    if connection.vendor != "postgresql":
        return True  # SQLite serialises writers itself
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
            return True
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_LOCK_KEY])
        row = cursor.fetchone()
        return bool(row and row[0])


def _write_seals(seals: list[tuple[int, int, str, str]]) -> int:
    """Set the seal columns of each still-unsealed row; return how many rows took it."""
    if connection.vendor != "postgresql":  # SQLite, the embedded demo: row by row is enough
        return sum(
            AuditEvent.objects.filter(pk=pk, seq__isnull=True).update(
                seq=seq, prev_hash=prev, hash=chain
            )
            for pk, seq, prev, chain in seals
        )
    # One statement per batch; only the table's name and placeholders are interpolated.
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    values = ",".join(["(%s::bigint, %s::bigint, %s, %s)"] * len(seals))
    sql = (
        f"UPDATE {table} AS a SET seq = v.seq, prev_hash = v.prev, hash = v.hash "  # noqa: S608
        f"FROM (VALUES {values}) AS v(id, seq, prev, hash) WHERE a.id = v.id AND a.seq IS NULL"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [x for seal in seals for x in seal])
        return int(cursor.rowcount)


def seal(*, batch_size: int = SEAL_BATCH, wait: bool = True) -> int:
    """Chain every unsealed row, in id order, a batch per transaction; return how many.

    Only the sealer takes the advisory lock, so two sealers never extend the chain from
    the same row; with ``wait=False`` (the beat task) a run finding another sealer at work
    leaves it to that one. The UPDATE only touches rows still unsealed and must touch
    them all, so a run is idempotent and a lost race rolls the batch back. A row under a
    key the keyring lacks stops the sealer there (AuditKeyMissing) after sealing the rows
    before it: the chain cannot pass it.
    """
    sealed = 0
    while True:
        with transaction.atomic():
            if not _lock(wait):
                return sealed
            last = (
                AuditEvent.objects.filter(seq__isnull=False)
                .order_by("-seq")
                .values_list("seq", "hash")
                .first()
            )
            seq, prev = (cast(int, last[0]), cast(str, last[1])) if last else (0, GENESIS)
            rows = list(
                AuditEvent.objects.filter(seq__isnull=True)
                .order_by("id")
                .values_list("id", "key_id", "row_mac")[:batch_size]
            )
            seals: list[tuple[int, int, str, str]] = []
            missing: str | None = None
            for pk, key_id, row_mac in rows:
                try:
                    chain = compute_chain_hash(
                        key_id=key_id, seq=seq + 1, pk=pk, row_mac=row_mac, prev=prev
                    )
                except AuditKeyMissing:
                    missing = key_id
                    break
                seq += 1
                seals.append((pk, seq, prev, chain))
                prev = chain
            if seals and _write_seals(seals) != len(seals):
                raise RuntimeError("audit seal: a row was sealed by another sealer meanwhile")
        sealed += len(seals)
        if missing is not None:
            logger.error("audit seal stopped: key id %r is not in AUDIT_KEYS", missing)
            raise AuditKeyMissing(missing)
        if len(rows) < batch_size:
            return sealed


def oldest_unsealed_at() -> datetime | None:
    """When the oldest row still waiting for the sealer was written (None: none waits)."""
    # Rows append in id order, and the partial index audit_unsealed holds only these.
    return (
        AuditEvent.objects.filter(seq__isnull=True).order_by("id").values_list("at", flat=True)
    ).first()


@dataclass
class ChainProblem:
    row: int  # the row's id (a sealed row's seq is in the text)
    problem: str
    unverifiable: bool = False


@dataclass
class Verification:
    problems: list[ChainProblem] = field(default_factory=list)
    sealed: int = 0
    unsealed: int = 0
    keys: Counter[str] = field(default_factory=Counter)  # rows verified under each key id
    missing_keys: Counter[str] = field(default_factory=Counter)  # rows whose key is absent

    @property
    def altered(self) -> list[ChainProblem]:
        return [p for p in self.problems if not p.unverifiable]


def _pages(rows: models.QuerySet[AuditEvent], order: str, batch_size: int) -> Iterator[AuditEvent]:
    # Keyset pages: constant memory on a trail of any length, with no cursor held open
    # (server-side cursors are off; see DISABLE_SERVER_SIDE_CURSORS in settings).
    ordered = rows.order_by(order)
    page = list(ordered[:batch_size])  # no lower bound first: a forged seq <= 0 still shows
    while page:
        yield from page
        page = list(ordered.filter(**{f"{order}__gt": getattr(page[-1], order)})[:batch_size])


def _row_problem(event: AuditEvent, result: Verification) -> ChainProblem | None:
    if event.key_id not in settings.AUDIT_KEYS:
        result.missing_keys[event.key_id] += 1
        return ChainProblem(
            event.pk, f"unverifiable: key {event.key_id!r} is not in AUDIT_KEYS", True
        )
    result.keys[event.key_id] += 1
    if not event.row_mac:  # written before the keyring: only its chain hash covers it
        legacy = event.key_id == LEGACY_KEY_ID and event.seq is not None
        if legacy and hmac.compare_digest(compute_legacy_hash(event), event.hash or ""):
            return None
        return ChainProblem(event.pk, "was changed after it was written")
    if not hmac.compare_digest(compute_row_mac(event), event.row_mac):
        return ChainProblem(event.pk, "was changed after it was written")
    if event.seq is not None:
        chain = compute_chain_hash(
            key_id=event.key_id,
            seq=event.seq,
            pk=event.pk,
            row_mac=event.row_mac,
            prev=event.prev_hash or "",
        )
        if not hmac.compare_digest(chain, event.hash or ""):
            return ChainProblem(event.pk, f"seal of seq {event.seq} was changed")
    return None


def verify_trail(batch_size: int = 2000) -> Verification:
    """Check the sealed chain in seq order, then each unsealed row's own MAC."""
    result = Verification()
    expected_seq, prev = 1, GENESIS
    for event in _pages(AuditEvent.objects.filter(seq__isnull=False), "seq", batch_size):
        seq = cast(int, event.seq)
        result.sealed += 1
        if seq != expected_seq:
            result.problems.append(
                ChainProblem(event.pk, f"seq {expected_seq}..{seq - 1} are missing (deleted)")
            )
        if event.prev_hash != prev:
            result.problems.append(ChainProblem(event.pk, "does not link to the row before it"))
        problem = _row_problem(event, result)
        if problem:
            result.problems.append(problem)
        expected_seq, prev = seq + 1, event.hash or ""
    for event in _pages(AuditEvent.objects.filter(seq__isnull=True), "id", batch_size):
        result.unsealed += 1
        problem = _row_problem(event, result)
        if problem:
            result.problems.append(problem)
    return result


def verify_chain(batch_size: int = 2000) -> Iterator[ChainProblem]:
    """Every problem of the trail (sealed chain, then unsealed rows), oldest first."""
    yield from verify_trail(batch_size).problems
