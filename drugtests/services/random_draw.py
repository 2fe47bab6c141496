"""The daily random draw (committed seed, frozen pool, chained hash) and the
corrections made against it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from core import audit, clock
from core.clock import site_today
from core.models import Site, User

from .. import draws
from ..models import Draw, DrawCorrection, DrawPoolEntry, Selection, TestingPolicy
from ..selectors import Candidate, active_policies, draw_day, eligible_pool
from ..signals import draw_completed
from ._common import _fair_deadline


@dataclass
class DrawResult:
    draw: Draw
    created: bool


def draw_run(
    *,
    site: Site,
    on: date | None = None,
    now: datetime | None = None,
    actor: User | None = None,
    trigger: str = Draw.Trigger.COMMAND,
) -> DrawResult:
    """Draw the site's random tests for a site-local day; a second call changes nothing."""
    now = clock.now(now)
    today = site_today(site, now)
    # After hours (a late beat, a run after closing) today's tests can no longer be given
    # fairly: the draw is for the next clinic day, told to patients when it opens.
    window_day = draw_day(site, now)
    if on is None or on == today:
        on = window_day
    elif on > today and on != window_day:
        raise ValidationError({"date": "A draw cannot be made for a future day."})
    try:
        with transaction.atomic():
            return _draw_run(
                site=site, on=on, window_day=window_day, now=now, actor=actor, trigger=trigger
            )
    except IntegrityError:
        # A concurrent run (beat and a command) won the (site, date) key: nothing changed.
        existing = Draw.objects.filter(site=site, date=on).first()
        if existing is None:
            raise
        return DrawResult(existing, False)


def _draw_run(
    *,
    site: Site,
    on: date,
    window_day: date,
    now: datetime,
    actor: User | None,
    trigger: str,
) -> DrawResult:
    # The site row lock serialises draws of one site, so two runs cannot both extend the
    # chain from the same predecessor; the unique (site, date) key is the final word.
    Site.objects.select_for_update().filter(pk=site.pk).first()
    existing = Draw.objects.filter(site=site, date=on).first()
    if existing is not None:
        return DrawResult(existing, False)
    last = Draw.objects.filter(site=site).order_by("-seq").values_list("seq", "hash").first()
    seq, prev = (last[0] + 1, last[1]) if last else (1, draws.GENESIS)

    # 1-2: seed and its commitment; the frozen pool and its hash, stored before selecting.
    seed = draws.new_seed()
    pool = eligible_pool(site, on)
    rows = [(c.patient_id, c.enrollment_id, c.policy_id, c.p_num, c.p_den) for c in pool]
    draw = Draw(
        site=site,
        date=on,
        seq=seq,
        status=Draw.Status.COMMITTED,
        trigger=trigger,
        created_at=now,
        created_by=actor,
        seed_commitment=draws.commitment(seed),
        pool_hash=draws.pool_hash(rows),
        pool_size=len(rows),
        prev_hash=prev,
    )
    draw.save(force_insert=True)

    # 3: each patient's number from HMAC-SHA256(seed, draw id | patient id).
    entries, selected = [], []
    for c in pool:
        u = draws.uniform_hex(seed, draw.pk, c.patient_id)
        chosen = draws.is_selected(u, c.p_num, c.p_den)
        entries.append((c, u, chosen))
        if chosen:
            selected.append(c)
    _insert_pool(draw, entries)

    # 4: reveal the seed, store the result and the chain hash (the only update a draw
    # ever gets, conditional on it still being the committed row written above).
    draw.seed = seed.hex()
    draw.selected_count = len(selected)
    draw.status = Draw.Status.FINAL
    draw.hash = draws.draw_hash(draw, [c.patient_id for c in selected])
    updated = Draw.objects.filter(pk=draw.pk, status=Draw.Status.COMMITTED).update(
        seed=draw.seed, selected_count=draw.selected_count, status=draw.status, hash=draw.hash
    )
    if updated != 1:
        raise IntegrityError("draw changed while it was being made")

    policies = {p.pk: p for p in _policies_by_id(site)}
    # A draw for a past day (the demo, a backfill) cannot be given that day: its patients
    # get the window a draw made now would give.
    deadlines = {
        pk: _fair_deadline(p, site, max(on, window_day), now) for pk, p in policies.items()
    }
    _insert_selections(draw, selected, deadlines, now)
    draw_completed.send(sender=Draw, draw=draw)
    # The keyed audit chain anchors the draw's hash: rewriting the whole draw chain
    # consistently would still not match the audit trail.
    audit.record(
        action="drugtests.draw",
        actor=actor,
        site_id=site.pk,
        obj=draw,
        at=now,
        detail={
            "date": on.isoformat(),
            "seq": seq,
            "hash": draw.hash,
            "pool_size": draw.pool_size,
            "selected": draw.selected_count,
        },
    )
    return DrawResult(draw, True)


def _pg_array(values: Iterable[object]) -> str:
    # Integers, hex digits and t/f need no quoting in an array literal; sending one text
    # literal per column is several times faster than adapting 10,000 Python values.
    return "{" + ",".join(map(str, values)) + "}"


def _insert_pool(draw: Draw, entries: Sequence[tuple[Candidate, str, bool]]) -> None:
    if connection.vendor == "postgresql":
        # One INSERT from arrays: 10,000 pool rows in a few milliseconds, where
        # bulk_create spends most of a second building model instances.
        table = DrawPoolEntry._meta.db_table
        with connection.cursor() as cur:
            cur.execute(
                f"INSERT INTO {table} "  # noqa: S608 - table name from model meta
                "(draw_id, patient_id, enrollment_id, policy_id, p_num, p_den, uniform, selected) "
                "SELECT %s, * FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], "
                "%s::smallint[], %s::smallint[], %s::varchar[], %s::boolean[])",
                [
                    draw.pk,
                    _pg_array(c.patient_id for c, _, _ in entries),
                    _pg_array(c.enrollment_id for c, _, _ in entries),
                    _pg_array(c.policy_id for c, _, _ in entries),
                    _pg_array(c.p_num for c, _, _ in entries),
                    _pg_array(c.p_den for c, _, _ in entries),
                    _pg_array(u for _, u, _ in entries),
                    _pg_array("t" if chosen else "f" for _, _, chosen in entries),
                ],
            )
        return
    DrawPoolEntry.objects.bulk_create(
        [
            DrawPoolEntry(
                draw=draw,
                patient_id=c.patient_id,
                enrollment_id=c.enrollment_id,
                policy_id=c.policy_id,
                p_num=c.p_num,
                p_den=c.p_den,
                uniform=u,
                selected=chosen,
            )
            for c, u, chosen in entries
        ],
        batch_size=2000,
    )


def _insert_selections(
    draw: Draw, selected: Sequence[Candidate], deadlines: dict[int, datetime], now: datetime
) -> None:
    if not selected:
        return
    if connection.vendor == "postgresql":
        table = Selection._meta.db_table
        with connection.cursor() as cur:
            cur.execute(
                f"INSERT INTO {table} "  # noqa: S608 - table name from model meta
                "(patient_id, policy_id, deadline, site_id, date, kind, draw_id, reason, "
                "status, outcome, created_at) "
                "SELECT p, pol, dl, %s, %s, %s, %s, '', %s, '', %s "
                "FROM unnest(%s::bigint[], %s::bigint[], %s::timestamptz[]) AS t(p, pol, dl)",
                [
                    draw.site_id,
                    draw.date,
                    Selection.Kind.RANDOM,
                    draw.pk,
                    Selection.Status.PENDING,
                    now,
                    _pg_array(c.patient_id for c in selected),
                    _pg_array(c.policy_id for c in selected),
                    _pg_array(f'"{deadlines[c.policy_id].isoformat()}"' for c in selected),
                ],
            )
        return
    Selection.objects.bulk_create(
        [
            Selection(
                patient_id=c.patient_id,
                site_id=draw.site_id,
                date=draw.date,
                kind=Selection.Kind.RANDOM,
                draw=draw,
                policy_id=c.policy_id,
                deadline=deadlines[c.policy_id],
                created_at=now,
            )
            for c in selected
        ],
        batch_size=2000,
    )


def _policies_by_id(site: Site) -> list[TestingPolicy]:
    by_phase, default = active_policies(site)
    return [*by_phase.values(), *([default] if default else [])]


@transaction.atomic
def selection_excuse(
    *, actor: User, selection: Selection, reason: str, now: datetime | None = None
) -> DrawCorrection:
    """Excuse one selection (e.g. hospitalised): a correction that references the draw."""
    now = clock.now(now)
    if not reason.strip():
        raise ValidationError({"reason": "Say why the test is excused."})
    selection = Selection.objects.select_for_update().get(pk=selection.pk)
    if selection.kind != Selection.Kind.RANDOM or selection.draw_id is None:
        raise ValidationError("Only a random selection is corrected against its draw.")
    if selection.status != Selection.Status.PENDING:
        raise ValidationError(f"This test is already {selection.get_status_display().lower()}.")
    selection.status = Selection.Status.EXCUSED
    selection.status_changed_at = now
    selection.save(update_fields=["status", "status_changed_at"])
    correction = DrawCorrection.objects.create(
        draw_id=selection.draw_id,
        selection=selection,
        kind=DrawCorrection.Kind.EXCUSE,
        reason=reason.strip(),
        created_by=actor,
        created_at=now,
    )
    audit.record(
        action="drugtests.selection_excused",
        actor=actor,
        patient_id=selection.patient_id,
        site_id=selection.site_id,
        obj=correction,
    )
    return correction
