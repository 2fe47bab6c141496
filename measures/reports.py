"""The director's outcomes report (Joint Commission CTS.03.01.09: aggregate the standard
measures across the program), registered in ``core.reporting.REPORTS`` when
``ReportsConfig.ready()`` discovers this module.

Per program (site), level of care and month of admission, and per measure: the patients
with at least two completed sittings in that episode, the mean score at admission (their
first sitting) and at their latest, and the share whose change from first to latest is a
reliable improvement or a reliable worsening by the instrument's own threshold. An
instrument with subscales (BAM) is reported by subscale; an instrument without a reliable
change threshold leaves the two shares empty. Two queries whatever the size: the
instruments, and one that ranks, pairs and sums the sittings in the database and returns
a row per group reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Count, F, Q, Window
from django.db.models.functions import RowNumber, TruncMonth

from core.charts import bar_chart
from core.reporting import Filters, Report, report
from patients.models import ProgramLevel

from .models import Administration, Instrument


def _pct(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


@dataclass
class _Group:
    patients: int = 0
    first_sum: int = 0
    latest_sum: int = 0
    improved: int = 0
    worse: int = 0
    judged: bool = False


def _measures(instrument: Instrument) -> list[tuple[str, str, dict[str, Any]]]:
    """(key, label, rules) of each measure: the subscales when there are, else the total.
    ``rules`` carries the reliable change threshold and its direction."""
    data = instrument.scoring
    subscales: dict[str, Any] = data.get("subscales") or {}
    if subscales:
        return [
            (key, f"{instrument.short_name} {sub.get('label', key)}", sub)
            for key, sub in subscales.items()
        ]
    return [("", instrument.short_name, data)]


# Portable SQL (PostgreSQL in production, SQLite for the demo): each sitting's score on
# each measure of its instrument, paired per episode (first and latest) and summed.
_GROUPED = """
WITH sittings AS ({sittings}),
measures (code, sub, label, threshold, lower_is_better) AS (VALUES {measures}),
scored AS (
    SELECT s.site, s.level, s.month, s.enrollment_id, s.from_first,
           m.code, m.label, m.threshold, m.lower_is_better,
           CASE WHEN m.sub = '' THEN coalesce(s.total, 0)
                ELSE coalesce(CAST({subscale} AS integer), 0) END AS score
    FROM sittings s JOIN measures m ON m.code = s.code
),
pairs AS (
    SELECT site, level, month, label, threshold, lower_is_better,
           max(CASE WHEN from_first = 1 THEN score END) AS before,
           max(CASE WHEN from_first <> 1 THEN score END) AS after
    FROM scored
    GROUP BY site, level, month, code, label, threshold, lower_is_better, enrollment_id
)
SELECT site, level, month, label, count(*), sum(before), sum(after),
       sum(CASE WHEN threshold > 0 AND abs(after - before) >= threshold
                 AND ((lower_is_better = 1 AND after < before)
                      OR (lower_is_better = 0 AND after > before)) THEN 1 ELSE 0 END),
       sum(CASE WHEN threshold > 0 AND abs(after - before) >= threshold
                 AND ((lower_is_better = 1 AND after > before)
                      OR (lower_is_better = 0 AND after < before)) THEN 1 ELSE 0 END),
       max(threshold)
FROM pairs
GROUP BY site, level, month, label
"""
_SUBSCALE = {
    "postgresql": "s.subscales ->> m.sub",
    "sqlite": "json_extract(s.subscales, '$.' || m.sub)",
}


def _outcome_groups(f: Filters) -> dict[tuple[str, str, str, str], _Group]:
    """Per (program, level, month admitted, measure label): the patients, the sums of
    their first and latest scores and how many changed reliably either way. Summed in
    the database: only each episode's first and latest sitting of each instrument are
    ranked (window functions), paired, scored against each measure's reliable change
    threshold (``scoring.reliable_change``'s rule, passed in as parameters) and summed,
    so a few dozen rows leave it whatever the clinic's size. Pairing and scoring the
    episodes in Python made the report grow with the clinic (cost ratio 5.6 from 500 to
    5,000 patients, most of it decoding two sittings' answers per episode)."""
    per_episode = [F("enrollment_id"), F("instrument__code")]
    sittings = (
        Administration.objects.filter(
            status=Administration.Status.COMPLETED,
            enrollment__site__organization_id=f.organization_id,
            enrollment__site_id__in=f.site_ids,
            enrollment__admission_date__range=(f.start, f.end),
        )
        .annotate(
            sittings=Window(Count("pk"), partition_by=per_episode),
            from_first=Window(
                RowNumber(), partition_by=per_episode, order_by=[F("completed_at").asc(), "pk"]
            ),
            from_latest=Window(
                RowNumber(),
                partition_by=per_episode,
                order_by=[F("completed_at").desc(), F("pk").desc()],
            ),
            site=F("enrollment__site__name"),
            level=F("enrollment__level"),
            month=TruncMonth("enrollment__admission_date"),
            code=F("instrument__code"),
        )
        .filter(sittings__gte=2)
        .filter(Q(from_first=1) | Q(from_latest=1))
        .values(
            "enrollment_id", "site", "level", "month", "code", "total", "subscales", "from_first"
        )
        .order_by()
    )
    # Each code's newest version of the instrument says how it is scored.
    newest: dict[str, Instrument] = {}
    for instrument in Instrument.objects.order_by("pk"):
        newest[instrument.code] = instrument
    measures: list[Any] = []
    for code, instrument in newest.items():
        for sub, label, rules in _measures(instrument):
            threshold = int(rules.get("reliable_change") or 0)
            lower_is_better = int(bool(rules.get("lower_is_better", True)))
            measures += [code, sub, label, threshold, lower_is_better]
    if not measures:
        return {}
    inner, inner_params = sittings.query.sql_with_params()
    sql = _GROUPED.format(
        sittings=inner,
        measures=", ".join(
            ["(%s, %s, %s, CAST(%s AS integer), CAST(%s AS integer))"] * (len(measures) // 5)
        ),
        subscale=_SUBSCALE[connection.vendor],
    )
    groups: dict[tuple[str, str, str, str], _Group] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [*inner_params, *measures])
        for site, level, month, label, n, first, latest, improved, worse, threshold in cursor:
            # A date on PostgreSQL, its ISO text on SQLite.
            groups[(site, level, str(month)[:7], label)] = _Group(
                patients=n,
                first_sum=int(first),
                latest_sum=int(latest),
                improved=int(improved),
                worse=int(worse),
                judged=bool(threshold),
            )
    return groups


@report(
    "measures-outcomes",
    "Outcomes (standard measures)",
    "Patients admitted in the period, by program, level of care and month of admission: for "
    "each measure (PHQ-9, GAD-7, BAM by subscale), the patients with two or more completed "
    "sittings in that episode, the mean score at their first sitting and at their latest, "
    "and the share reliably improved or worse (PHQ-9: 6 points, GAD-7: 4, by the "
    "instrument's own threshold).",
    order=70,
)
def outcomes(f: Filters) -> Report:
    groups = _outcome_groups(f)
    table: list[list[Any]] = []
    overall: dict[str, list[int]] = {}
    for (site, level, month, label), g in sorted(groups.items()):
        table.append(
            [
                site,
                ProgramLevel(level).label if level in ProgramLevel.values else level,
                month,
                label,
                g.patients,
                round(g.first_sum / g.patients, 1),
                round(g.latest_sum / g.patients, 1),
                _pct(g.improved, g.patients) if g.judged else "",
                _pct(g.worse, g.patients) if g.judged else "",
            ]
        )
        if g.judged:
            seen = overall.setdefault(label, [0, 0])
            seen[0] += g.improved
            seen[1] += g.patients
    chart = bar_chart(
        "Patients reliably improved, by measure",
        "% improved",
        [(label, _pct(improved, n)) for label, (improved, n) in sorted(overall.items())],
    )
    unjudged = any(not g.judged for g in groups.values())
    note = (
        "Patients with fewer than two completed sittings in the episode are not counted. "
        "Means are of the first and the latest sitting of each episode."
    )
    if unjudged:
        note += " Measures without a reliable change threshold leave the shares empty."
    return Report(
        chart=chart,
        columns=[
            "program",
            "level of care",
            "month admitted",
            "measure",
            "patients (2+ sittings)",
            "mean at admission",
            "mean latest",
            "% reliably improved",
            "% reliably worse",
        ],
        rows=table,
        note=note,
    )
