"""Reports built on enrollments: census, discharges, retention."""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Count, Q, QuerySet

from core.clock import week_start
from patients.models import DischargeType, Enrollment, ProgramLevel

from .charts import bar_chart, line_chart
from .registry import Filters, Report, report


def _mondays(start: date, end: date) -> list[date]:
    first = week_start(start)
    out, d = [], first
    while d <= end:
        out.append(max(d, start))
        d += timedelta(days=7)
    return out


def _enrollments(f: Filters) -> QuerySet[Enrollment]:
    return Enrollment.objects.filter(
        site__organization_id=f.organization_id, site_id__in=f.site_ids
    )


@report("census", "Census over time", "Patients in care (active or on hold) each week, by level.")
def census(f: Filters) -> Report:
    weeks = _mondays(f.start, f.end)
    # Counted by the database, one filtered COUNT per week grouped by level: reading
    # every enrollment into Python and counting it once per week grew with the clinic.
    in_care = {
        f"w{i}": Count(
            "pk",
            filter=Q(admission_date__lte=day)
            & (Q(discharge_date__isnull=True) | Q(discharge_date__gte=day)),
        )
        for i, day in enumerate(weeks)
    }
    by_level = {
        row.pop("level"): row
        for row in _enrollments(f)
        .filter(admission_date__lte=f.end)
        .filter(Q(discharge_date__isnull=True) | Q(discharge_date__gte=f.start))
        .order_by()
        .values("level")
        .annotate(**in_care)
    }
    table = []
    for i, day in enumerate(weeks):
        counts = [by_level.get(lv, {}).get(f"w{i}", 0) for lv in ProgramLevel.values]
        table.append([day.isoformat(), *counts, sum(counts)])
    chart = line_chart("Patients in care", "patients", [(r[0][5:], r[-1]) for r in table])
    columns = ["week of", *(ProgramLevel(lv).short for lv in ProgramLevel.values), "total"]
    return Report(chart=chart, columns=columns, rows=table)


@report("discharges", "Discharges by type", "Episodes ended in the period, by discharge type.")
def discharges(f: Filters) -> Report:
    counts = dict(
        _enrollments(f)
        .filter(discharge_date__range=(f.start, f.end))
        .values_list("discharge_type")
        .annotate(n=Count("pk"))
        .values_list("discharge_type", "n")
    )
    data = [(DischargeType(t).label, counts.get(t, 0)) for t in DischargeType.values]
    chart = bar_chart("Discharges by type", "episodes", [(lbl.split(" ")[0], n) for lbl, n in data])
    return Report(chart=chart, columns=["discharge type", "episodes"], rows=[list(d) for d in data])


def kaplan_meier(durations: list[tuple[int, bool]]) -> list[tuple[int, float, int, int]]:
    """(day, survival, at risk, events) at each day with an event; censored rows leave the
    risk set without an event (still in care at the end of the period)."""
    at_risk = len(durations)
    survival = 1.0
    out = [(0, 1.0, at_risk, 0)]
    by_day: dict[int, list[bool]] = {}
    for days, ended in durations:
        by_day.setdefault(days, []).append(ended)
    for day in sorted(by_day):
        events = sum(by_day[day])
        if events and at_risk:
            survival *= 1 - events / at_risk
            out.append((day, survival, at_risk, events))
        at_risk -= len(by_day[day])
    return out


@report(
    "retention",
    "Retention (length of stay)",
    "Kaplan-Meier estimate of the share still in care by days since admission, for episodes "
    "admitted in the period; episodes still open are censored at today.",
)
def retention(f: Filters) -> Report:
    rows = list(
        _enrollments(f)
        .filter(admission_date__range=(f.start, f.end))
        .values_list("admission_date", "discharge_date", "discharge_type")
    )
    durations = []
    for admitted, discharged, kind in rows:
        ended = discharged is not None and discharged <= f.today
        # A step-down or completion is an end of this episode like any other.
        last = discharged if discharged is not None and ended else f.today
        durations.append(((last - admitted).days, ended and bool(kind)))
    curve = kaplan_meier(durations)
    median = next((day for day, s, _, _ in curve if s <= 0.5), None)
    chart = line_chart(
        "Share still in care",
        "% in care",
        [(f"d{day}", round(s * 100, 1)) for day, s, _, _ in curve],
        top=100,
        step=True,
    )
    note = f"{len(durations)} episodes; median length of stay " + (
        f"{median} days." if median is not None else "not reached (over half still in care)."
    )
    table = [[day, round(s * 100, 1), n, e] for day, s, n, e in curve]
    return Report(
        chart=chart, columns=["day", "% in care", "at risk", "ended"], rows=table, note=note
    )
