"""The weekly compliance grid: one row per patient with hours, drug tests, meetings and
homework for one week (weeks start on Monday, site-local dates and times).

``compliance_grid`` runs a fixed number of queries whatever the number of patients:
four for the hours (``scheduling.selectors.hours.weekly_hours_precomputed``) and five of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypedDict

from django.db.models import Min
from django.utils import timezone

from core import clock
from core.clock import week_bounds
from drugtests.models import Outcome, Selection
from patients.models import Enrollment, Patient
from recovery.compliance import WeekCompliance, requirement_for, week_compliance
from recovery.models import HomeworkAssignment, Meeting, MeetingRequirement
from scheduling.selectors.hours import WeekHours, weekly_hours_precomputed

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _FirstSubmitted(TypedDict):
    first_submitted: datetime | None


# Colour is never the only signal: every state has a word and a symbol as well.
TEST_STATES = {
    # key: (label, symbol, bootstrap colour, rank for sorting: worst first)
    Outcome.POSITIVE: ("Positive", "✗", "danger", 0),
    Outcome.REFUSED: ("Refused", "✗", "danger", 1),
    Outcome.MISSED: ("Missed", "!", "danger", 2),
    Outcome.INVALID: ("Invalid specimen", "!", "warning", 3),
    "pending": ("Pending", "…", "secondary", 5),
    "awaiting_result": ("Awaiting result", "…", "secondary", 5),
    "excused": ("Excused", "–", "light", 6),
    Outcome.EXPLAINED: ("Positive, explained by prescription", "✓", "info", 7),
    Outcome.NEGATIVE: ("Negative", "✓", "success", 8),
}
NO_TEST_RANK = 9


@dataclass
class TestCell:
    __test__ = False

    selection: Selection
    state: str

    @property
    def label(self) -> str:
        return TEST_STATES[self.state][0]

    @property
    def symbol(self) -> str:
        return TEST_STATES[self.state][1]

    @property
    def colour(self) -> str:
        return TEST_STATES[self.state][2]

    @property
    def rank(self) -> int:
        return TEST_STATES[self.state][3]

    @property
    def kind_label(self) -> str:
        return "for cause" if self.selection.kind == Selection.Kind.FOR_CAUSE else "random"


def _test_state(s: Selection) -> str:
    if s.outcome:
        return s.outcome
    if s.status == Selection.Status.EXCUSED:
        return "excused"
    if s.status == Selection.Status.COLLECTED:
        return "awaiting_result"
    return "pending"


@dataclass
class HomeworkCell:
    assignment: HomeworkAssignment
    state: str  # on_time | late | missing | not_due
    submitted_on: date | None

    LABELS = {
        "on_time": ("On time", "✓", "success"),
        "late": ("Late", "!", "warning"),
        "missing": ("Missing", "✗", "danger"),
        "not_due": ("Not due yet", "…", "secondary"),
    }

    @property
    def label(self) -> str:
        return self.LABELS[self.state][0]

    @property
    def symbol(self) -> str:
        return self.LABELS[self.state][1]

    @property
    def colour(self) -> str:
        return self.LABELS[self.state][2]


@dataclass
class GridRow:
    patient: Patient
    hours: WeekHours
    tests: list[TestCell] = field(default_factory=list)
    meetings: WeekCompliance | None = None
    homework: list[HomeworkCell] = field(default_factory=list)

    @property
    def hours_symbol(self) -> str:
        return self.hours.status.symbol

    @property
    def meetings_symbol(self) -> str:
        return self.meetings.status.symbol if self.meetings else ""

    @property
    def meetings_colour(self) -> str:
        return self.meetings.status.colour if self.meetings else "light"

    @property
    def homework_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(HomeworkCell.LABELS, 0)
        for cell in self.homework:
            counts[cell.state] += 1
        return counts

    # Sort keys: the row that needs attention first when ascending.
    def sort_hours(self) -> tuple[int, float]:
        h = self.hours
        if not h.minimum_minutes:
            return (1, 0.0)
        return (0, h.attended_minutes / h.minimum_minutes)

    def sort_tests(self) -> int:
        return min((c.rank for c in self.tests), default=NO_TEST_RANK)

    def sort_meetings(self) -> tuple[int, float]:
        m = self.meetings
        if m is None or not m.required:
            return (1, 0.0)
        return (0, m.verified / m.required)

    def sort_homework(self) -> tuple[int, int, int]:
        c = self.homework_counts
        return (-c["missing"], -c["late"], -c["on_time"])

    def sort_name(self) -> tuple[str, str, int]:
        p = self.patient
        return (p.legal_last_name.lower(), p.legal_first_name.lower(), p.pk)


SORTS: dict[str, Callable[[GridRow], Any]] = {
    "name": GridRow.sort_name,
    "hours": GridRow.sort_hours,
    "tests": GridRow.sort_tests,
    "meetings": GridRow.sort_meetings,
    "homework": GridRow.sort_homework,
}


def sort_rows(rows: list[GridRow], sort: str) -> tuple[list[GridRow], str]:
    """Sort by ``name``, ``hours``, ... or the same with a leading ``-`` (descending);
    anything else sorts by name. Returns the rows and the sort actually used."""
    key = sort.lstrip("-")
    if key not in SORTS:
        sort, key = "name", "name"
    func = SORTS[key]
    # Name as the tie-break keeps equal rows in a stable, predictable order.
    ordered = sorted(rows, key=GridRow.sort_name)
    ordered.sort(key=func, reverse=sort.startswith("-"))
    return ordered, sort


def _enrollment_in_week(
    enrollments: list[Enrollment], monday: date, sunday: date
) -> Enrollment | None:
    for e in enrollments:  # newest admission first
        if e.admission_date <= sunday and (e.discharge_date is None or e.discharge_date >= monday):
            return e
    return None


def compliance_grid(
    patients: list[Patient], monday: date, *, now: datetime | None = None
) -> list[GridRow]:
    """Rows for ``patients`` (fetched with ``site``) for the week starting ``monday``."""
    now = clock.now(now)
    if not patients:
        return []
    sunday = monday + timedelta(days=6)
    ids = [p.pk for p in patients]
    hours = {row.patient.pk: row for row in weekly_hours_precomputed(patients, monday, now=now)}

    tests: dict[int, list[TestCell]] = {}
    for s in Selection.objects.filter(
        patient_id__in=ids, date__gte=monday, date__lte=sunday
    ).order_by("date", "pk"):
        tests.setdefault(s.patient_id, []).append(TestCell(s, _test_state(s)))

    enrollments: dict[int, list[Enrollment]] = {}
    for e in Enrollment.objects.filter(patient_id__in=ids).order_by("-admission_date", "-pk"):
        enrollments.setdefault(e.patient_id, []).append(e)
    site_ids = {p.site_id for p in patients}
    requirements: dict[int, list[MeetingRequirement]] = {}
    for req in MeetingRequirement.objects.filter(site_id__in=site_ids):
        requirements.setdefault(req.site_id, []).append(req)
    bounds = {p.site_id: week_bounds(monday, p.site.tz) for p in patients}
    meetings: dict[int, list[Meeting]] = {}
    for m in Meeting.objects.filter(
        patient_id__in=ids,
        held_at__gte=min(b[0] for b in bounds.values()),
        held_at__lt=max(b[1] for b in bounds.values()),
    ).only("patient_id", "held_at", "status", "fellowship"):
        meetings.setdefault(m.patient_id, []).append(m)

    homework: dict[int, list[WithAnnotations[HomeworkAssignment, _FirstSubmitted]]] = {}
    for assignment in (
        HomeworkAssignment.objects.filter(
            patient_id__in=ids, due_date__gte=monday, due_date__lte=sunday
        )
        .annotate(first_submitted=Min("submissions__submitted_at"))
        .order_by("due_date", "pk")
    ):
        homework.setdefault(assignment.patient_id, []).append(assignment)

    rows = []
    for p in patients:
        tz = p.site.tz
        today = timezone.localdate(now, tz)
        enrollment = _enrollment_in_week(enrollments.get(p.pk, []), monday, sunday)
        week = None
        if enrollment is not None:
            week = week_compliance(
                monday=monday,
                meetings=meetings.get(p.pk, []),
                tz=tz,
                requirement=requirement_for(requirements.get(p.site_id, []), enrollment.phase_id),
                admitted=enrollment.admission_date,
                discharged=enrollment.discharge_date,
                today=today,
            )
        cells = []
        for hw in homework.get(p.pk, []):
            # On time: the first round was handed in by the end of the due date, site-local.
            submitted_on = (
                timezone.localdate(hw.first_submitted, tz) if hw.first_submitted else None
            )
            if submitted_on is not None:
                state = "on_time" if submitted_on <= hw.due_date else "late"
            elif today > hw.due_date:
                state = "missing"
            else:
                state = "not_due"
            cells.append(HomeworkCell(hw, state, submitted_on))
        rows.append(
            GridRow(
                patient=p,
                hours=hours[p.pk],
                tests=tests.get(p.pk, []),
                meetings=week,
                homework=cells,
            )
        )
    return rows
