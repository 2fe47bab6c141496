"""Bulk drug-testing history for ``seed_scale``: W weeks of daily draws per site, then
specimens, point-of-care results and per-analyte readings for the past selections.

The draws go through the real draw service (``services.draw_run``, one ``now`` per day),
so the chains, pools and selections are exactly what production writes and
``verify_draws`` passes. The collection history behind them bypasses the collection and
result services (row locks, audit rows, one round trip per write) on purpose: this is
benchmark data, written with a few set-based INSERTs. The interpretation of every reading
still comes from ``interpretation`` so the stored outcomes agree with the rules.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import Q

from core.clock import local_datetime, site_today
from drugtests.interpretation import expected_analytes, interpret, overall_outcome
from drugtests.models import (
    Analyte,
    AnalyteOutcome,
    AnalyteResult,
    Draw,
    Method,
    Outcome,
    Selection,
    Specimen,
    TestAlert,
    TestingPolicy,
    TestResult,
)
from drugtests.services.random_draw import draw_run
from drugtests.services.results import selections_mark_missed
from patients.models import MedicationOrder

if TYPE_CHECKING:
    from bench.scale import ScaleContext

MISSED_SHARE = 0.06  # left pending: the deadline job marks them missed (and alerts)
REFUSED_SHARE = 0.03
RELAPSE_SHARE = 0.04  # an unexpected fentanyl positive
ABSENT_SHARE = 0.03  # on buprenorphine, but the cup shows none
ALERTS_OPEN_DAYS = 14  # older alerts were worked and resolved
DRAW_AT = time(6, 5)  # just after the beat's default draw time (drugtests.tasks)


def _arr(values: Iterable[Any]) -> list[Any]:
    return list(values)


def _readings(
    panel: tuple[str, ...], meds: frozenset[str], flavour: str
) -> list[tuple[str, str, Any]]:
    expected = expected_analytes(meds)
    out = []
    for code in panel:
        positive = code in expected
        if flavour == "absent" and code == Analyte.BUPRENORPHINE:
            positive = False
        if flavour == "relapse" and code == Analyte.FENTANYL:
            positive = True
        outcome = AnalyteOutcome.POSITIVE if positive else AnalyteOutcome.NEGATIVE
        out.append((code, outcome, interpret(code, outcome, expected)))
    return out


def _draws(ctx: ScaleContext) -> int:
    made = 0
    for site in ctx.sites:
        day = ctx.start
        while day < site_today(site, ctx.now):
            morning = datetime.combine(day, DRAW_AT, tzinfo=site.tz)
            result = draw_run(site=site, on=day, now=morning, trigger=Draw.Trigger.DEMO)
            made += result.created
            day += timedelta(days=1)
    return made


def _meds(ctx: ScaleContext) -> dict[int, list[MedicationOrder]]:
    out: dict[int, list] = defaultdict(list)
    for order in MedicationOrder.objects.filter(patient__organization=ctx.organization).only(
        "patient_id", "medication", "start_date", "stop_date"
    ):
        out[order.patient_id].append(order)
    return out


def _history(ctx: ScaleContext) -> dict[str, int]:
    """Outcomes for every past random selection that has none yet (re-runs add nothing)."""
    tz = {site.pk: site.tz for site in ctx.sites}
    # Each site's own today: a site west of the server may still be on yesterday.
    before_today = Q()
    for site in ctx.sites:
        before_today |= Q(site=site, date__lt=site_today(site, ctx.now))

    def past_collection(pk: int, site_id: int, day: date) -> datetime:
        return datetime.combine(day, time(9 + pk % 7, (pk * 7) % 60), tzinfo=tz[site_id])

    return _collect(ctx, before_today, past_collection, missed_share=MISSED_SHARE)


def _today(ctx: ScaleContext) -> dict[str, int]:
    """Today mid-morning: about half of today's tests at the sites already open are
    collected (between opening and now), the rest still pending, so the day list shows a
    working day whatever the date (bench/clock.py pins it)."""
    open_now = Q(pk__in=[])
    opened: dict[int, tuple[datetime, datetime]] = {}
    for site in ctx.sites:
        today = site_today(site, ctx.now)
        opens = local_datetime(today, site.opens_at, site.tz)
        day = Selection.objects.filter(site=site, date=today)
        # A re-run leaves a day that collections have started alone.
        if opens < ctx.now and not day.exclude(status=Selection.Status.PENDING).exists():
            open_now |= Q(site=site, date=today)
            closes = local_datetime(today, site.closes_at, site.tz)
            opened[site.pk] = (opens, min(ctx.now, closes))

    def collected_at(pk: int, site_id: int, day: date) -> datetime:
        opens, until = opened[site_id]
        span = int((until - opens).total_seconds())
        return opens + timedelta(seconds=(pk * 7919) % max(span, 1))

    # Every other test in draw order is collected (the first stays pending), not a roll
    # per test: with the handful a small site draws a day, rolls left some mornings with
    # nothing collected (or nothing pending), and the day list showed no working day.
    return _collect(ctx, open_now, collected_at, missed_share=0, every_other=True)


def _collect(
    ctx: ScaleContext,
    which: Q,
    collected_at: Callable[[int, int, date], datetime],
    *,
    missed_share: float,
    every_other: bool = False,
) -> dict[str, int]:
    """Specimens, results and readings for the pending selections ``which`` picks: a
    ``missed_share`` of them stays pending, a few are refused, the rest are collected at
    ``collected_at(selection id, site id, day)``. With ``every_other``, each site-day's
    second, fourth... selection is collected and the others stay pending (none refused)."""
    collector, nurse = ctx.staff["collector"], ctx.staff["nurse"]
    policies = {p.pk: p for p in TestingPolicy.objects.filter(site__organization=ctx.organization)}
    meds_by_patient = _meds(ctx)
    past = list(
        Selection.objects.filter(
            which,
            status=Selection.Status.PENDING,
            specimen__isnull=True,
        )
        .order_by("date", "pk")
        .values_list("pk", "patient_id", "site_id", "date", "policy_id")
    )
    readings_cache: dict = {}
    spec_rows, refused = [], []
    plan: dict[int, tuple] = {}  # selection id -> (collected_at, readings key, meds, flavour)
    nth: dict[tuple[int, date], int] = {}
    for pk, patient_id, site_id, day, policy_id in past:
        roll = ctx.rng.random()
        if every_other:
            n = nth[site_id, day] = nth.get((site_id, day), 0) + 1
            if n % 2:
                continue
        elif roll < missed_share:
            continue
        at = collected_at(pk, site_id, day)
        if not every_other and roll < missed_share + REFUSED_SHARE:
            refused.append((pk, at))
            continue
        meds = frozenset(
            o.medication for o in meds_by_patient.get(patient_id, ()) if o.active_on(day)
        )
        flavour = ""
        roll = ctx.rng.random()
        if roll < RELAPSE_SHARE:
            flavour = "relapse"
        elif roll < RELAPSE_SHARE + ABSENT_SHARE and any(
            m.startswith("buprenorphine") for m in meds
        ):
            flavour = "absent"
        policy = policies[policy_id]
        key = (tuple(policy.panel), meds, flavour)
        if key not in readings_cache:
            readings_cache[key] = _readings(*key)
        plan[pk] = (at, key, meds, flavour)
        spec_rows.append(
            (
                pk,
                patient_id,
                at,
                policy.specimen_type,
                policy.observed_required or pk % 3 == 0,
                f"SCALE-{pk:09d}",
            )
        )
    if not spec_rows:
        return {"collected": 0, "refused": 0}

    with connection.cursor() as cur:
        # Specimens, then one point-of-care result each, then the readings by template.
        cur.execute(
            f"INSERT INTO {Specimen._meta.db_table} "  # noqa: S608 - table from model meta
            "(selection_id, patient_id, collected_by_id, collected_at, specimen_type, observed, "
            "temperature_in_range, validity, chain_of_custody_id, method, notes) "
            "SELECT s, p, %s, at, st, obs, true, 'valid', coc, %s, '' "
            "FROM unnest(%s::bigint[], %s::bigint[], %s::timestamptz[], %s::varchar[], "
            "%s::boolean[], %s::varchar[]) AS t(s, p, at, st, obs, coc) "
            "RETURNING id, selection_id",
            [
                collector.pk,
                Method.POC,
                _arr(r[0] for r in spec_rows),
                _arr(r[1] for r in spec_rows),
                _arr(r[2] for r in spec_rows),
                _arr(r[3] for r in spec_rows),
                _arr(r[4] for r in spec_rows),
                _arr(r[5] for r in spec_rows),
            ],
        )
        specimen_of = {sel: spec for spec, sel in cur.fetchall()}
        sel_ids = list(specimen_of)
        cur.execute(
            f"INSERT INTO {TestResult._meta.db_table} "  # noqa: S608
            "(specimen_id, source, entered_by_id, entered_at, lab_name, prescribed) "
            "SELECT sp, %s, %s, at, '', pr "
            "FROM unnest(%s::bigint[], %s::timestamptz[], %s::jsonb[]) AS t(sp, at, pr) "
            "RETURNING id, specimen_id",
            [
                Method.POC,
                nurse.pk,
                _arr(specimen_of[s] for s in sel_ids),
                _arr(plan[s][0] + timedelta(minutes=10) for s in sel_ids),
                _arr(json.dumps(sorted(plan[s][2])) for s in sel_ids),
            ],
        )
        result_of = {spec: res for res, spec in cur.fetchall()}
        by_key: dict = defaultdict(list)
        for s in sel_ids:
            by_key[plan[s][1]].append(result_of[specimen_of[s]])
        for key, result_ids in by_key.items():
            readings = readings_cache[key]
            cur.execute(
                f"INSERT INTO {AnalyteResult._meta.db_table} "  # noqa: S608
                "(result_id, analyte, outcome, interpretation) "
                "SELECT r, a, o, i FROM unnest(%s::bigint[]) AS r "
                "CROSS JOIN unnest(%s::varchar[], %s::varchar[], %s::varchar[]) AS t(a, o, i)",
                [
                    result_ids,
                    [a for a, _, _ in readings],
                    [o for _, o, _ in readings],
                    [i for _, _, i in readings],
                ],
            )
        outcomes = {
            key: overall_outcome("valid", [i for _, _, i in readings])
            for key, readings in readings_cache.items()
        }
        cur.execute(
            f"UPDATE {Selection._meta.db_table} AS s "  # noqa: S608
            "SET status = t.st, outcome = t.oc, status_changed_at = t.at "
            "FROM unnest(%s::bigint[], %s::varchar[], %s::varchar[], %s::timestamptz[]) "
            "AS t(id, st, oc, at) WHERE s.id = t.id",
            [
                sel_ids + [pk for pk, _ in refused],
                [Selection.Status.COLLECTED] * len(sel_ids)
                + [Selection.Status.REFUSED] * len(refused),
                [outcomes[plan[s][1]] for s in sel_ids] + [Outcome.REFUSED] * len(refused),
                [plan[s][0] for s in sel_ids] + [at for _, at in refused],
            ],
        )
    # The alerts the result service would raise for the two findings seeded here.
    site_of = {pk: site_id for pk, _, site_id, _, _ in past}
    patient_of = {pk: patient_id for pk, patient_id, _, _, _ in past}
    alerts = []
    for s in sel_ids:
        at, _, _, flavour = plan[s]
        kinds = {
            "relapse": [
                (TestAlert.Kind.UNEXPECTED_POSITIVE, Analyte.FENTANYL),
                (TestAlert.Kind.OPIOID_POSITIVE, Analyte.FENTANYL),
            ],
            "absent": [(TestAlert.Kind.PRESCRIBED_ABSENT, Analyte.BUPRENORPHINE)],
        }.get(flavour, [])
        for kind, analyte in kinds:
            alerts.append(
                TestAlert(
                    kind=kind,
                    patient_id=patient_of[s],
                    site_id=site_of[s],
                    selection_id=s,
                    specimen_id=specimen_of[s],
                    analyte=analyte,
                    created_at=at + timedelta(minutes=10),
                )
            )
    TestAlert.objects.bulk_create(alerts, batch_size=5000, ignore_conflicts=True)
    return {"collected": len(sel_ids), "refused": len(refused), "alerts": len(alerts)}


def seed_scale(ctx: ScaleContext) -> None:
    drawn = _draws(ctx)
    counts = _history(ctx)
    for site in ctx.sites:
        # Pending past tests become missed (with their alerts), as the deadline job does.
        midnight = datetime.combine(site_today(site, ctx.now), time(0, 1), tzinfo=site.tz)
        selections_mark_missed(now=midnight, site=site)
        # Today's draw at its morning time, as the beat makes it (or now, before then).
        morning = datetime.combine(site_today(site, ctx.now), DRAW_AT, tzinfo=site.tz)
        draw_run(site=site, now=min(morning, ctx.now), trigger=Draw.Trigger.DEMO)
    today = _today(ctx)
    ctx.log.append(
        f"drugtests today: {today.get('collected', 0)} collected, "
        f"{today.get('refused', 0)} refused so far"
    )
    # Staff worked the older alerts; only the last two weeks are still open.
    cutoff = ctx.now - timedelta(days=ALERTS_OPEN_DAYS)
    resolved = TestAlert.objects.filter(
        site__in=ctx.sites, resolved_at__isnull=True, created_at__lt=cutoff
    ).update(
        resolved_at=ctx.now - timedelta(days=ALERTS_OPEN_DAYS - 1),
        resolved_by=ctx.staff["counselor"],
        resolution_note="Discussed with the patient; plan updated.",
    )
    total = Selection.objects.filter(site__in=ctx.sites).count()
    ctx.log.append(
        f"drugtests: {drawn} draws, {total} selections, {counts.get('collected', 0)} "
        f"specimens with results, {counts.get('refused', 0)} refused, "
        f"{counts.get('alerts', 0)} finding alerts, {resolved} old alerts resolved"
    )
