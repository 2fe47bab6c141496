"""Reports on sessions: attendance by track, weekly hours against the minimum, billing days."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum

from core.clock import week_start
from patients.models import (
    ADOLESCENT_UNDER_AGE,
    Enrollment,
    ProgramLevel,
    age_on,
    weekly_minimum_minutes,
)
from scheduling.models import Attendance

from .charts import bar_chart, line_chart
from .registry import Filters, Report, report

ATTENDED = ("present", "late", "left_early")
# A billable IOP day (HCPCS H0015) is commonly a day of three hours or more.
BILLABLE_DAY_MINUTES = 180


def _attendance(f: Filters) -> QuerySet[Attendance]:
    return Attendance.objects.filter(
        session__site_id__in=f.site_ids,
        session__local_date__range=(f.start, f.end),
        session__status="scheduled",
    )


@report(
    "attendance",
    "Attendance rate by track",
    "Share of rostered group attendances marked present, late or left early (excused and "
    "unexcused absences count against it; cancelled sessions are not absences).",
)
def attendance_by_track(f: Filters) -> Report:
    rows = (
        _attendance(f)
        .filter(session__track__isnull=False)
        .values("session__track__site__name", "session__track__name")
        .annotate(
            marked=Count("pk"),
            attended=Count("pk", filter=Q(status__in=ATTENDED)),
            unexcused=Count("pk", filter=Q(status="unexcused")),
        )
        .order_by("session__track__site__name", "session__track__name")
    )
    table = []
    for r in rows:
        rate = round(100 * r["attended"] / r["marked"], 1) if r["marked"] else 0
        table.append(
            [
                r["session__track__site__name"],
                r["session__track__name"],
                r["marked"],
                r["attended"],
                r["unexcused"],
                rate,
            ]
        )
    chart = bar_chart("Attendance rate by track", "% attended", [(r[1], r[5]) for r in table])
    columns = ["site", "track", "marked", "attended", "unexcused absences", "% attended"]
    return Report(chart=chart, columns=columns, rows=table)


@report(
    "hours",
    "Average weekly hours against the minimum",
    "Per week, the average hours attended by patients in IOP and PHP, beside the ASAM "
    "adult minimum for each level (adolescents' lower IOP minimum is counted per patient).",
)
def weekly_hours(f: Filters) -> Report:
    minutes = (
        _attendance(f)
        .filter(status__in=ATTENDED)
        .values_list("patient_id", "session__local_date")
        .annotate(total=Sum("minutes_credited"))
    )
    per_patient_week: dict[tuple[int, date], int] = defaultdict(int)
    for patient_id, day, total in minutes:
        per_patient_week[(patient_id, week_start(day))] += total or 0
    episodes = list(
        Enrollment.objects.filter(
            site_id__in=f.site_ids,
            level__in=[ProgramLevel.IOP, ProgramLevel.PHP],
            admission_date__lte=f.end,
        )
        .filter(Q(discharge_date__isnull=True) | Q(discharge_date__gte=f.start))
        .values_list(
            "patient_id", "level", "admission_date", "discharge_date", "patient__date_of_birth"
        )
    )
    weeks = []
    week = week_start(f.start)
    while week <= f.end:
        weeks.append(week)
        week += timedelta(days=7)
    table: list[list[Any]] = []
    for week in weeks:
        end = week + timedelta(days=6)
        for level in (ProgramLevel.IOP, ProgramLevel.PHP):
            # Whole weeks in care only: a week of admission or discharge is partial.
            here = [
                (pid, born)
                for pid, lv, admitted, discharged, born in episodes
                if lv == level and admitted <= week and (discharged is None or discharged >= end)
            ]
            if not here:
                continue
            hours = [per_patient_week.get((pid, week), 0) / 60 for pid, _ in here]
            below = sum(
                1
                for (pid, born), h in zip(here, hours, strict=True)
                if h * 60 < weekly_minimum_minutes(level, age_on(born, week) < ADOLESCENT_UNDER_AGE)
            )
            table.append(
                [
                    week.isoformat(),
                    ProgramLevel(level).short,
                    len(here),
                    round(sum(hours) / len(hours), 1),
                    weekly_minimum_minutes(level, False) / 60,
                    below,
                ]
            )
    iop = [(r[0][5:], r[3]) for r in table if r[1] == "IOP"]
    chart = line_chart(
        "Average weekly hours, IOP", "hours", iop, reference=("IOP minimum (9 h)", 9)
    )
    columns = [
        "week of",
        "level",
        "patients",
        "average hours",
        "adult minimum",
        "patients below their minimum",
    ]
    return Report(chart=chart, columns=columns, rows=table)


@report(
    "billing",
    "Billing days (H0015) per month",
    "Patient-days with at least three hours attended (a billable IOP day), per month and "
    "level, from group and individual sessions.",
)
def billing_days(f: Filters) -> Report:
    per_day = (
        _attendance(f)
        .filter(status__in=ATTENDED)
        .values("patient_id", "session__local_date")
        .annotate(total=Sum("minutes_credited"))
    )
    months: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in per_day:
        month = row["session__local_date"].strftime("%Y-%m")
        months[month][0] += 1
        months[month][1] += int((row["total"] or 0) >= BILLABLE_DAY_MINUTES)
    table: list[list[Any]] = [[m, days, billable] for m, (days, billable) in sorted(months.items())]
    chart = bar_chart("Billable IOP days per month", "patient-days", [(r[0], r[2]) for r in table])
    return Report(
        chart=chart,
        columns=["month", "patient-days attended", "billable days (3 h or more)"],
        rows=table,
    )
