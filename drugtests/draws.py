"""The random draw: eligibility, fair selection, and the evidence that makes it auditable.

Design (each step is checked again by ``verify``):

1. A 32-byte seed comes from the operating system's CSPRNG (``secrets``); its SHA-256
   commitment is stored with the draw before any selection is computed.
2. The eligible pool is frozen: sorted patient ids with their enrollment, policy and
   probability p = frequency / collection days in the period (kept as an exact fraction),
   stored row by row and hashed (SHA-256 of a canonical JSON form).
3. Each patient's uniform number is the first 64 bits of HMAC-SHA256(seed, "draw id|patient
   id") / 2**64; the patient is selected when it is below p (compared in integers, so a
   verifier gets bit-identical answers). Patients are selected independently: being
   tested yesterday changes nothing today, and nobody can predict a day without the seed.
4. The draw's own hash covers every stored field, the selected ids and the hash of the
   site's previous draw, so the draws of a site form a chain: altering, inserting or
   removing a draw breaks it at that draw.
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # for annotations only: the arithmetic here needs no database
    from .models import Draw, DrawPoolEntry

GENESIS = "0" * 64
SCALE = 1 << 64


# --- primitives -------------------------------------------------------------


def new_seed() -> bytes:
    return secrets.token_bytes(32)


def commitment(seed: bytes) -> str:
    return hashlib.sha256(seed).hexdigest()


def uniform_hex(seed: bytes, draw_id: int, patient_id: int) -> str:
    mac = hmac.new(seed, f"{draw_id}|{patient_id}".encode(), hashlib.sha256).digest()
    return mac[:8].hex()


def uniform(seed: bytes, draw_id: int, patient_id: int) -> float:
    return int(uniform_hex(seed, draw_id, patient_id), 16) / SCALE


def is_selected(uniform_value_hex: str, p_num: int, p_den: int) -> bool:
    # u < p_num / p_den  <=>  U * p_den < p_num * 2**64 with U the 64-bit integer: exact.
    return int(uniform_value_hex, 16) * p_den < p_num * SCALE


def select(seed: bytes, draw_id: int, pool: Iterable[tuple[int, int, int]]) -> list[int]:
    """Patient ids selected from ``(patient_id, p_num, p_den)``; pure, for tests and bench."""
    return [pid for pid, num, den in pool if is_selected(uniform_hex(seed, draw_id, pid), num, den)]


def collection_days_in_period(weekdays: frozenset[int], period: str, on: date) -> int:
    if period == "week":
        return len(weekdays)
    _, last = calendar.monthrange(on.year, on.month)
    return sum(1 for d in range(1, last + 1) if date(on.year, on.month, d).weekday() in weekdays)


# --- canonical forms and hashes --------------------------------------------


def _dumps(payload: object) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


def pool_canonical(entries: Iterable[tuple[int, int, int, int, int]]) -> bytes:
    """``(patient_id, enrollment_id, policy_id, p_num, p_den)`` rows, sorted by patient."""
    return _dumps(sorted([list(e) for e in entries]))


def pool_hash(entries: Iterable[tuple[int, int, int, int, int]]) -> str:
    return hashlib.sha256(pool_canonical(entries)).hexdigest()


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def draw_hash(draw: Draw, selected_ids: Iterable[int]) -> str:
    payload = {
        "id": draw.pk,
        "site": draw.site_id,
        "date": draw.date.isoformat(),
        "seq": draw.seq,
        "status": draw.status,
        "trigger": draw.trigger,
        "created_at": _iso(draw.created_at),
        "created_by": draw.created_by_id,
        "seed_commitment": draw.seed_commitment,
        "seed": draw.seed,
        "pool_hash": draw.pool_hash,
        "pool_size": draw.pool_size,
        "selected_count": draw.selected_count,
        "selected": sorted(selected_ids),
        "prev_hash": draw.prev_hash,
    }
    return hashlib.sha256(_dumps(payload)).hexdigest()


# --- verification -----------------------------------------------------------


@dataclass
class DrawProblem:
    draw_id: int | None
    label: str
    problem: str

    def __str__(self) -> str:
        return f"draw {self.draw_id} ({self.label}): {self.problem}"


def verify_draw(
    draw: Draw,
    *,
    expected_seq: int,
    expected_prev: str,
    entries: Iterable[DrawPoolEntry],
    selection_ids: Iterable[int],
) -> list[str]:
    """Everything wrong with one stored draw, given its pool rows and random selections."""
    problems: list[str] = []
    if draw.seq != expected_seq:
        problems.append(f"chain position {draw.seq}, expected {expected_seq} (draw missing?)")
    if draw.prev_hash != expected_prev:
        problems.append("does not link to the previous draw of the site (chain broken)")
    if draw.status != "final":
        problems.append("was never finalised")
    try:
        seed = bytes.fromhex(draw.seed)
    except ValueError:
        seed = b""
    if len(seed) != 32 or not hmac.compare_digest(commitment(seed), draw.seed_commitment):
        problems.append("seed does not match its commitment")
    rows = [(e.patient_id, e.enrollment_id, e.policy_id, e.p_num, e.p_den) for e in entries]
    if pool_hash(rows) != draw.pool_hash:
        problems.append("pool differs from the frozen pool (hash mismatch)")
    if len(rows) != draw.pool_size:
        problems.append("pool size differs")
    recomputed = []
    for e in entries:
        u = uniform_hex(seed, draw.pk, e.patient_id) if seed else ""
        chosen = bool(u) and e.p_den > 0 and is_selected(u, e.p_num, e.p_den)
        if e.uniform != u or e.selected != chosen:
            problems.append(f"pool entry for patient {e.patient_id}: number or result altered")
        if chosen:
            recomputed.append(e.patient_id)
    if len(recomputed) != draw.selected_count:
        problems.append("selected count differs from the recomputed selection")
    if sorted(selection_ids) != sorted(recomputed):
        problems.append("random selections differ from the recomputed selection")
    if not hmac.compare_digest(draw_hash(draw, recomputed), draw.hash):
        problems.append("record hash mismatch (a field was changed)")
    return problems
