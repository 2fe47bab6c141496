"""The director's outcomes report (Joint Commission CTS.03.01.09: aggregate the standard
measures across the program), registered in ``core.reporting.REPORTS`` when
``ReportsConfig.ready()`` discovers this module.

Per program (site), level of care and month of admission, and per measure: the patients
with at least two completed sittings in that episode, the mean score at admission (their
first sitting) and at their latest, and the share whose change from first to latest is a
reliable improvement or a reliable worsening by the instrument's own threshold. An
instrument with subscales (BAM) is reported by subscale; an instrument without a reliable
change threshold leaves the two shares empty. Two queries whatever the size; the
sittings query returns two rows per episode and instrument, whatever the number of sittings.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, F, Q, Window
from django.db.models.functions import RowNumber

from core.charts import bar_chart
from core.reporting import Filters, Report, report
from patients.models import ProgramLevel

from . import scoring
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


@dataclass
class _Episode:
    scores: list[tuple[int, dict[str, int]]] = field(default_factory=list)


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
    # Only each episode's first and latest sitting of each instrument leave the database
    # (ranked by window functions), and only for episodes with two or more: reading every
    # completed sitting made the report grow with the clinic's history (cost ratio 2.3-2.5
    # from 500 to 2,000 patients in the benchmark).
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
        )
        .filter(sittings__gte=2)
        .filter(Q(from_first=1) | Q(from_latest=1))
        .values_list(
            "enrollment_id",
            "enrollment__site__name",
            "enrollment__level",
            "enrollment__admission_date",
            "instrument__code",
            "total",
            "subscales",
            "from_first",
        )
        .order_by()
    )
    newest: dict[str, Instrument] = {}
    for instrument in Instrument.objects.order_by("pk"):
        newest[instrument.code] = instrument
    episodes: dict[tuple[Any, ...], _Episode] = defaultdict(_Episode)
    for enrollment_id, site, level, admitted, code, total, subscales, first in sittings:
        episode_key = (site, level, admitted.strftime("%Y-%m"), code, enrollment_id)
        # The first sitting goes first, the latest last (rows come in no set order).
        scores = episodes[episode_key].scores
        entry = (int(total or 0), dict(subscales or {}))
        if first == 1:
            scores.insert(0, entry)
        else:
            scores.append(entry)
    groups: dict[tuple[str, str, str, str], _Group] = {}
    for (site, level, month, code, _), episode in sorted(episodes.items(), key=lambda e: e[0]):
        if len(episode.scores) < 2 or code not in newest:
            continue
        (first_total, first_subs), (latest_total, latest_subs) = (
            episode.scores[0],
            episode.scores[-1],
        )
        for sub, label, rules in _measures(newest[code]):
            before = int(first_subs.get(sub, 0)) if sub else first_total
            after = int(latest_subs.get(sub, 0)) if sub else latest_total
            group = groups.setdefault((site, level, month, label), _Group())
            group.patients += 1
            group.first_sum += before
            group.latest_sum += after
            group.judged = bool(rules.get("reliable_change"))
            verdict = scoring.reliable_change(rules, before, after)
            group.improved += verdict == "improved"
            group.worse += verdict == "worsened"
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
