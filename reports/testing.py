"""Drug-test positivity by week and by analyte (random tests only; for-cause apart)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from core.models import Site
from drugtests.models import Analyte
from drugtests.reports import site_report

from .charts import line_chart
from .registry import Filters, Report, report


@report(
    "positivity",
    "Test positivity by week and analyte",
    "Random tests: the share counted positive each week (missed and refused count as "
    "positive where the policy says so), and unexpected positives per analyte.",
)
def positivity(f: Filters) -> Report:
    weeks: dict[date, list[int]] = {}
    analytes: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for site in Site.objects.filter(pk__in=f.site_ids):
        rows, _ = site_report(site, f.start, f.end)
        for r in rows:
            w = weeks.setdefault(r.week, [0, 0, 0])
            w[0] += r.selected
            w[1] += r.resolved
            w[2] += r.counted_positive
            for analyte, (tested, unexpected) in r.analytes.items():
                analytes[analyte][0] += tested
                analytes[analyte][1] += unexpected
    table: list[list[Any]] = []
    for week in sorted(weeks):
        selected, resolved, positive = weeks[week]
        pct = round(100 * positive / resolved, 1) if resolved else None
        table.append([week.isoformat(), selected, resolved, positive, "" if pct is None else pct])
    chart = line_chart(
        "Share of random tests counted positive",
        "% positive",
        [(row[0][5:], row[4] or 0) for row in table],
        top=100,
    )
    note = "; ".join(
        f"{Analyte(a).label}: {u} unexpected of {t}" for a, (t, u) in sorted(analytes.items()) if t
    )
    return Report(
        chart=chart,
        columns=["week of", "selected", "resolved", "counted positive", "% positive"],
        rows=table,
        note=f"By analyte over the period: {note}." if note else "",
    )
