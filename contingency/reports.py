"""The auditors' CM fidelity report (registered in ``core.reporting.REPORTS`` when
``ReportsConfig.ready()`` discovers this module): testing frequency, share of tests
rewarded, amount per test by step, totals against the caps, rewards not reconciled.
Five queries whatever the number of episodes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, Sum

from core.charts import bar_chart
from core.reporting import Filters, Report, report

from .models import CMEnrollment, LedgerEntry, Target
from .selectors.screens import ZERO, unreconciled_for, with_state

# Programs test once or twice a week (CLINICAL.md: 36 tests in 24 weeks).
LEAST_PER_WEEK = 1.0
# Within a tenth of a cap counts as near it.
NEAR_CAP = Decimal("0.9")
GIVEN = [
    LedgerEntry.Reason.NEGATIVE,
    LedgerEntry.Reason.CAPPED,
    LedgerEntry.Reason.POSITIVE,
    LedgerEntry.Reason.INVALID,
]
COLUMNS = ["measure", "group", "count", "amount", "detail"]


def _pct(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


@report(
    "cm-fidelity",
    "Contingency management fidelity",
    "For auditors, over the period: tests per week of each patient enrolled (those below "
    "one a week listed), the share of tests rewarded, the amount per test at each step of "
    "the schedule, the patients at or near a cap, and the rewards handed out and not yet "
    "reconciled (as of today).",
    order=80,
)
def cm_fidelity(f: Filters) -> Report:
    in_sites = Q(program__site__organization_id=f.organization_id, program__site_id__in=f.site_ids)
    episodes = list(
        with_state(
            CMEnrollment.objects.filter(
                in_sites,
                program__target=Target.TEST,
                starts_on__lte=f.end,
                ends_on__gte=f.start,
            ).select_related("patient", "program")
        ).order_by("patient__legal_last_name", "patient__legal_first_name", "pk")
    )
    entries = LedgerEntry.objects.filter(
        enrollment__in=[e.pk for e in episodes], occurred_on__range=(f.start, f.end)
    )
    counted = entries.filter(
        kind__in=[LedgerEntry.Kind.EARNED, LedgerEntry.Kind.NOT_EARNED],
        selection__isnull=False,
        reason__in=GIVEN,
    )
    per_episode = {
        r["enrollment_id"]: r
        for r in counted.values("enrollment_id").annotate(
            tests=Count("pk"),
            rewarded=Count("pk", filter=Q(kind=LedgerEntry.Kind.EARNED, amount__gt=0)),
        )
    }
    by_step = list(
        entries.filter(kind=LedgerEntry.Kind.EARNED, amount__gt=0)
        .values("step")
        .annotate(n=Count("pk"), total=Sum("amount"))
        .order_by("step")
    )
    open_rewards = list(
        unreconciled_for(
            LedgerEntry.objects.filter(
                enrollment__program__site__organization_id=f.organization_id,
                enrollment__program__site_id__in=f.site_ids,
                occurred_on__lte=f.today,
            )
        ).select_related("patient")
    )

    rows: list[list[Any]] = []
    rates: list[float] = []
    below: list[list[Any]] = []
    tests_total = rewarded_total = 0
    for episode in episodes:
        first, last = max(episode.starts_on, f.start), min(episode.ends_on, f.end, f.today)
        weeks = ((last - first).days + 1) / 7 if last >= first else 0
        found = per_episode.get(episode.pk, {"tests": 0, "rewarded": 0})
        tests_total += found["tests"]
        rewarded_total += found["rewarded"]
        if weeks < 1:
            # Less than a week enrolled in the period: too short to judge its rate.
            continue
        rate = round(found["tests"] / weeks, 2)
        rates.append(rate)
        if rate < LEAST_PER_WEEK:
            below.append(
                [
                    "Below one test a week",
                    episode.patient.display_name,
                    found["tests"],
                    "",
                    f"{rate:.2f} a week over {weeks:.1f} weeks",
                ]
            )
    mean = round(sum(rates) / len(rates), 2) if rates else 0.0
    rows.append(["Tests per week", "mean per patient enrolled", len(rates), "", f"{mean:.2f}"])
    rows.extend(below)
    earned_total = sum((r["total"] for r in by_step), ZERO)
    rows.append(
        [
            "Share of tests rewarded",
            "all tests given",
            tests_total,
            str(earned_total),
            f"{_pct(rewarded_total, tests_total)}% ({rewarded_total} rewarded)",
        ]
    )
    for r in by_step:
        rows.append(
            [
                "Amount per test by step",
                f"step {r['step']}",
                r["n"],
                str(r["total"]),
                f"${r['total'] / r['n']:.2f} a test",
            ]
        )
    near: list[list[Any]] = []
    for episode in episodes:
        total = episode.last_episode_total or ZERO  # type: ignore[attr-defined]
        year_total = episode.last_year_total or ZERO  # type: ignore[attr-defined]
        program = episode.program
        if total >= program.episode_cap * NEAR_CAP or year_total >= program.year_cap * NEAR_CAP:
            near.append(
                [
                    "At or near a cap",
                    episode.patient.display_name,
                    "",
                    str(total),
                    f"episode ${total} of ${program.episode_cap}; "
                    f"year ${year_total} of ${program.year_cap}",
                ]
            )
    rows.extend(near)
    open_amount = sum((-e.amount for e in open_rewards), ZERO)
    oldest = open_rewards[0].occurred_on.isoformat() if open_rewards else ""
    rows.append(
        [
            "Rewards not reconciled",
            "as of today",
            len(open_rewards),
            str(open_amount),
            f"oldest {oldest}" if oldest else "none",
        ]
    )
    chart = bar_chart(
        "Rewards earned by step", "tests rewarded", [(str(r["step"]), r["n"]) for r in by_step]
    )
    note = (
        f"{len(episodes)} episode{'s' if len(episodes) != 1 else ''} in the period; "
        f"{len(below)} below one test a week; {len(near)} at or near a cap; "
        f"{len(open_rewards)} reward{'s' if len(open_rewards) != 1 else ''} not reconciled."
    )
    return Report(chart=chart, columns=COLUMNS, rows=rows, note=note)
