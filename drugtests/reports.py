"""Site report: positivity by week and by analyte (random tests; for-cause counted apart)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from core.clock import week_start
from core.models import Site

from .interpretation import effective_results
from .models import Analyte, Interpretation, Outcome, Selection, TestResult
from .selectors import counts_positive


@dataclass
class WeekRow:
    week: date
    selected: int = 0
    collected: int = 0
    missed: int = 0
    refused: int = 0
    excused: int = 0
    positive: int = 0
    explained: int = 0
    negative: int = 0
    invalid: int = 0
    counted_positive: int = 0
    resolved: int = 0
    for_cause: int = 0
    analytes: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))

    @property
    def positivity(self) -> float | None:
        return self.counted_positive / self.resolved if self.resolved else None


# A selection's outcome -> the WeekRow counter it adds to.
_OUTCOME_FIELDS: dict[str, str] = {
    Outcome.POSITIVE: "positive",
    Outcome.EXPLAINED: "explained",
    Outcome.NEGATIVE: "negative",
    Outcome.INVALID: "invalid",
}


def site_report(site: Site, start: date, end: date) -> tuple[list[WeekRow], list[str]]:
    weeks: dict[date, WeekRow] = {}
    w = week_start(start)
    while w <= end:
        weeks[w] = WeekRow(w)
        w += timedelta(days=7)
    selections = list(
        Selection.objects.filter(site=site, date__range=(start, end)).select_related("policy")
    )
    results_by_selection = defaultdict(list)
    for result in (
        TestResult.objects.filter(specimen__selection__in=[s.pk for s in selections])
        .prefetch_related("analytes")
        .select_related("specimen")
    ):
        results_by_selection[result.specimen.selection_id].append(result)
    seen_analytes: set[str] = set()
    for s in selections:
        row = weeks[week_start(s.date)]
        if s.kind == Selection.Kind.FOR_CAUSE:
            # Labelled and kept out of the random statistics.
            row.for_cause += 1
            continue
        row.selected += 1
        status = s.status
        if status in ("collected", "missed", "refused", "excused"):
            setattr(row, status, getattr(row, status) + 1)
        outcome_field = _OUTCOME_FIELDS.get(s.outcome)
        if outcome_field:
            setattr(row, outcome_field, getattr(row, outcome_field) + 1)
        if s.outcome:
            row.resolved += 1
            row.counted_positive += int(counts_positive(s, s.policy))
        for analyte, ar in effective_results(results_by_selection.get(s.pk, [])).items():
            if ar.interpretation == Interpretation.NOT_TESTED:
                continue
            seen_analytes.add(analyte)
            cell = row.analytes[analyte]
            cell[0] += 1
            cell[1] += int(ar.interpretation == Interpretation.UNEXPECTED_POSITIVE)
    order = [a for a in Analyte.values if a in seen_analytes]
    return list(weeks.values()), order


CSV_HEADER = [
    "week_start",
    "analyte",
    "random_selected",
    "collected",
    "missed",
    "refused",
    "excused",
    "positive",
    "positive_explained",
    "negative",
    "invalid",
    "counted_positive",
    "positivity_pct",
    "tested",
    "unexpected_positive",
    "for_cause_tests",
]


def csv_rows(weeks: list[WeekRow], analytes: list[str]) -> Iterator[Sequence[object]]:
    yield CSV_HEADER
    for r in weeks:
        pct = "" if r.positivity is None else f"{100 * r.positivity:.1f}"
        yield [
            r.week.isoformat(),
            "ALL",
            r.selected,
            r.collected,
            r.missed,
            r.refused,
            r.excused,
            r.positive,
            r.explained,
            r.negative,
            r.invalid,
            r.counted_positive,
            pct,
            "",
            "",
            r.for_cause,
        ]
        for a in analytes:
            tested, pos = r.analytes.get(a, (0, 0))
            yield [r.week.isoformat(), a, *([""] * 11), tested, pos, ""]
