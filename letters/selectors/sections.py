"""What a compliance letter reports, section by section, for a period of site-local days.

- attendance: each week (Monday to Sunday, cut to the period) the sessions scheduled,
  attended, excused and unexcused, and the hours attended against the level's minimum.
  Whole weeks take their hours, minimum and verdict from scheduling's own weekly-hours
  reckoning (``scheduling.selectors.hours.weekly_hours``), the figures the clinic's
  compliance pages show; a week the period cuts has no minimum to be measured against.
- drug tests: each test due in the period, collected or missed, and its result only once
  it is final (``test_result``).
- meetings: the mutual-help meetings staff verified.
- status: the episode of care today, its level and phase.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Prefetch

from core import clock
from core.clock import local_datetime, week_bounds, week_start
from core.formats import format_day
from drugtests.interpretation import effective_results
from drugtests.models import (
    INVALID_VALIDITY,
    Analyte,
    AnalyteOutcome,
    Interpretation,
    Method,
    Outcome,
    Selection,
    Specimen,
    TestResult,
)
from patients.compliance import ComplianceStatus
from patients.models import OPEN_STATUSES, ConsentSection, Enrollment, Patient, ProgramLevel
from recovery.models import Fellowship, Meeting, MeetingStatus
from scheduling.models import ATTENDED_STATUSES, Attendance, AttendanceStatus, SessionStatus
from scheduling.selectors.hours import weekly_hours
from scheduling.selectors.sessions import patient_sessions


def hours(minutes: int) -> str:
    return f"{minutes / 60:.1f}"


# --- attendance ------------------------------------------------------------------------


@dataclass
class AttendanceWeek:
    monday: date
    first: date  # the week's first day inside the period
    last: date  # and its last
    scheduled: int = 0
    attended: int = 0
    excused: int = 0
    unexcused: int = 0
    # Held, on the patient's schedule, and not marked either way (yet).
    not_recorded: int = 0
    # Cancelled by the clinic: neither expected nor an absence.
    cancelled: int = 0
    attended_minutes: int = 0
    # None for a week the period cuts: its minimum applies to the whole week.
    minimum_minutes: int | None = None
    verdict: str = ""

    @property
    def whole(self) -> bool:
        return self.minimum_minutes is not None

    @property
    def label(self) -> str:
        if self.first == self.last:
            return format_day(self.first)
        return f"{format_day(self.first, year=False)} to {format_day(self.last)}"

    @property
    def attended_hours(self) -> str:
        return hours(self.attended_minutes)

    @property
    def against_minimum(self) -> str:
        if self.minimum_minutes is None:
            return "Part week: no weekly minimum applies"
        if self.minimum_minutes == 0:
            return "No weekly minimum at this level"
        return f"{hours(self.minimum_minutes)} h minimum: {self.verdict}"


def _weeks_of(start: date, end: date) -> list[tuple[date, date, date]]:
    """(monday, first, last) of each week the period touches, oldest first."""
    weeks = []
    monday = week_start(start)
    while monday <= end:
        weeks.append((monday, max(monday, start), min(monday + timedelta(days=6), end)))
        monday += timedelta(days=7)
    return weeks


def _verdict(status: ComplianceStatus, week_over: bool) -> str:
    if status == ComplianceStatus.MET:
        return "met"
    if not week_over:
        return "week in progress"
    return "not met" if status == ComplianceStatus.BELOW else status.label.lower()


def attendance_weeks(
    patients: Sequence[Patient], start: date, end: date, *, now: datetime | None = None
) -> dict[int, list[AttendanceWeek]]:
    """Each patient's weeks of the period (oldest first). Per patient, two queries for
    their sessions; one for everyone's attendance; four per whole week for the hours."""
    now = clock.now(now)
    ids = [p.pk for p in patients]
    weeks = _weeks_of(start, end)
    rows = {
        p.pk: [AttendanceWeek(monday=m, first=f, last=la) for m, f, la in weeks] for p in patients
    }
    marks = list(
        Attendance.objects.filter(
            patient_id__in=ids, session__local_date__gte=start, session__local_date__lte=end
        )
        .exclude(session__status=SessionStatus.REMOVED)
        .values("patient_id", "session_id", "status", "minutes_credited", "session__local_date")
    )
    marked = {(m["patient_id"], m["session_id"]) for m in marks}
    index_of = {monday: i for i, (monday, _, _) in enumerate(weeks)}
    for patient in patients:
        for session in patient_sessions(patient, start, end):
            week = rows[patient.pk][index_of[week_start(session.local_date)]]
            if session.status != SessionStatus.SCHEDULED:
                week.cancelled += 1
                continue
            week.scheduled += 1
            if session.ends_at <= now and (patient.pk, session.pk) not in marked:
                week.not_recorded += 1
    for mark in marks:
        week = rows[mark["patient_id"]][index_of[week_start(mark["session__local_date"])]]
        if mark["status"] in ATTENDED_STATUSES:
            week.attended += 1
            week.attended_minutes += mark["minutes_credited"]
        elif mark["status"] == AttendanceStatus.EXCUSED:
            week.excused += 1
        elif mark["status"] == AttendanceStatus.UNEXCUSED:
            week.unexcused += 1
    for index, (monday, first, last) in enumerate(weeks):
        if first != monday or last != monday + timedelta(days=6):
            continue  # a part week: its own counts, no minimum
        for hours_row in weekly_hours(list(patients), monday, now=now):
            week = rows[hours_row.patient.pk][index]
            _, week_end = week_bounds(monday, hours_row.patient.site.tz)
            week.attended_minutes = hours_row.attended_minutes
            week.minimum_minutes = hours_row.minimum_minutes
            week.verdict = _verdict(hours_row.status, now >= week_end)
    return rows


# --- drug tests ------------------------------------------------------------------------


@dataclass
class TestLine:
    __test__ = False  # not a pytest class, despite the name

    day: date
    kind: str
    collection: str  # Collected, Missed, Refused, Excused, Not yet due
    result: str
    final: bool  # the result will not change (a positive cup waits for the laboratory)


def _analyte_names(codes: Iterable[str]) -> str:
    return ", ".join(Analyte(c).label if c in Analyte.values else c for c in sorted(codes))


def test_result(selection: Selection, specimen: Specimen | None) -> tuple[str, str, bool]:
    """(collection, result, final) of one test, as a letter states it.

    A missed or refused test, an invalid specimen and a laboratory's result are final. A
    point-of-care cup that found nothing is final too (a negative screen is not sent for
    confirmation); a cup that found something is presumptive, and reported as awaiting
    the laboratory, until the laboratory's result is entered."""
    status = selection.status
    if status == Selection.Status.MISSED:
        return "Missed", "Missed test (no specimen given by the deadline)", True
    if status == Selection.Status.REFUSED:
        return "Refused", "Refused to give a specimen", True
    if status == Selection.Status.EXCUSED:
        return "Excused", "Excused by the program", True
    if status == Selection.Status.PENDING or specimen is None:
        return "Not yet collected", "Pending", False
    if specimen.validity in INVALID_VALIDITY:
        return "Collected", f"Invalid specimen ({specimen.get_validity_display().lower()})", True
    results: list[TestResult] = list(specimen.results.all())
    lab = next((r for r in results if r.source == Method.LAB), None)
    if lab is None:
        cup = next((r for r in results if r.source == Method.POC), None)
        if cup is None:
            waiting = "Sent to the laboratory; result pending"
            return "Collected", waiting if specimen.method == Method.LAB else "Pending", False
        found = any(a.outcome == AnalyteOutcome.POSITIVE for a in cup.analytes.all())
        if found:
            return (
                "Collected",
                "Presumptive screen result; awaiting laboratory confirmation",
                False,
            )
        return "Collected", "Negative (point-of-care screen)", True
    merged = effective_results(results)
    unexpected = [
        a.analyte for a in merged.values() if a.interpretation == Interpretation.UNEXPECTED_POSITIVE
    ]
    if selection.outcome == Outcome.POSITIVE and unexpected:
        return "Collected", f"Positive for {_analyte_names(unexpected)} (laboratory)", True
    if selection.outcome == Outcome.EXPLAINED:
        return "Collected", "Consistent with prescribed medication (laboratory)", True
    return "Collected", "Negative (laboratory)", True


def _selections(patient: Patient, start: date, end: date) -> list[Selection]:
    return list(
        Selection.objects.filter(patient=patient, date__gte=start, date__lte=end)
        .select_related("specimen")
        .prefetch_related(
            Prefetch(
                "specimen__results",
                queryset=TestResult.objects.prefetch_related("analytes").order_by("entered_at"),
            )
        )
        .order_by("date", "pk")
    )


def _specimen(selection: Selection) -> Specimen | None:
    try:
        return selection.specimen
    except Specimen.DoesNotExist:
        return None


def drug_tests(patient: Patient, start: date, end: date) -> list[TestLine]:
    """The tests due on the period's days, oldest first: four queries."""
    lines = []
    for selection in _selections(patient, start, end):
        collection, result, final = test_result(selection, _specimen(selection))
        lines.append(
            TestLine(
                day=selection.date,
                kind=selection.get_kind_display(),
                collection=collection,
                result=result,
                final=final,
            )
        )
    return lines


# --- meetings --------------------------------------------------------------------------


@dataclass
class MeetingLine:
    day: date
    fellowship: str
    name: str
    mode: str
    verified_on: date | None


def verified_meetings(patient: Patient, start: date, end: date) -> list[MeetingLine]:
    """Meetings held on the period's days that staff verified, oldest first: one query."""
    tz = patient.site.tz
    begins = local_datetime(start, time(), tz)
    ends = local_datetime(end + timedelta(days=1), time(), tz)
    rows = Meeting.objects.filter(
        patient=patient, status=MeetingStatus.VERIFIED, held_at__gte=begins, held_at__lt=ends
    ).order_by("held_at", "pk")
    return [
        MeetingLine(
            day=m.held_at.astimezone(tz).date(),
            fellowship=(
                m.fellowship_other
                if m.fellowship == Fellowship.OTHER and m.fellowship_other
                else m.get_fellowship_display()
            ),
            name=m.name,
            mode=m.get_mode_display(),
            verified_on=m.reviewed_at.astimezone(tz).date() if m.reviewed_at else None,
        )
        for m in rows
    ]


# --- status ----------------------------------------------------------------------------


@dataclass
class StatusSummary:
    facts: list[tuple[str, str]] = field(default_factory=list)


def status_summary(patient: Patient, today: date) -> StatusSummary:
    """The open episode of care (else the latest): its status, level, phase and dates.
    One query."""
    episodes = list(
        Enrollment.objects.filter(patient=patient)
        .select_related("phase", "track")
        .order_by("-admission_date", "-pk")[:5]
    )
    episode = next((e for e in episodes if e.status in OPEN_STATUSES), None) or (
        episodes[0] if episodes else None
    )
    if episode is None:
        return StatusSummary([("Status", "Not admitted to the program")])
    facts = [
        ("Status", episode.get_status_display()),
        ("Level of care", ProgramLevel(episode.level).label),
        ("Phase", episode.phase.name if episode.phase else "No phase"),
        ("Admitted", format_day(episode.admission_date)),
    ]
    if episode.discharge_date is not None:
        facts.append(
            (
                "Discharged",
                f"{format_day(episode.discharge_date)} ({episode.get_discharge_type_display()})",
            )
        )
    elif episode.expected_end_date is not None:
        facts.append(("Expected to complete", format_day(episode.expected_end_date)))
    facts.append(("As of", format_day(today)))
    return StatusSummary(facts)


# --- the whole letter ------------------------------------------------------------------


@dataclass
class LetterContent:
    """What one letter says, read before it is drawn (``letters.documents``)."""

    patient: Patient
    recipient: str
    purpose: str
    consent_signed: date
    start: date
    end: date
    sections: list[str]
    today: date
    attendance: list[AttendanceWeek] = field(default_factory=list)
    tests: list[TestLine] = field(default_factory=list)
    meetings: list[MeetingLine] = field(default_factory=list)
    status: StatusSummary | None = None


def letter_content(
    patient: Patient,
    *,
    recipient: str,
    purpose: str,
    consent_signed: date,
    sections: list[str],
    start: date,
    end: date,
    today: date,
    now: datetime | None = None,
) -> LetterContent:
    """The chosen sections only: a section not asked for is not even read."""
    content = LetterContent(
        patient=patient,
        recipient=recipient,
        purpose=purpose,
        consent_signed=consent_signed,
        start=start,
        end=end,
        sections=sections,
        today=today,
    )
    if ConsentSection.ATTENDANCE in sections:
        content.attendance = attendance_weeks([patient], start, end, now=now)[patient.pk]
    if ConsentSection.DRUG_TESTS in sections:
        content.tests = drug_tests(patient, start, end)
    if ConsentSection.MEETINGS in sections:
        content.meetings = verified_meetings(patient, start, end)
    if ConsentSection.STATUS in sections:
        content.status = status_summary(patient, today)
    return content
