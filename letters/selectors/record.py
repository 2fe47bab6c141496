"""The patient's own record, as the PDF they download (or staff print at their request)
lays it out: every part as rows of text, read from the apps that keep it.

Their schedule and attendance, drug tests and results, meetings, homework, medications,
consents, treatment plans (the signed versions, as the portal shows them) and scores.
Progress notes are not in it: the clinician's notes are released through the clinic's
records request, not a download.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Prefetch

from core import clock
from core.clock import site_today
from core.formats import format_day, format_time, format_when
from drugtests.interpretation import effective_results
from drugtests.models import Analyte, AnalyteOutcome, Selection, TestResult
from measures.selectors.chart import trends_for
from patients.models import Patient, ProgramLevel
from records.selectors.plans import portal_versions, version_tree
from recovery.models import Fellowship, HomeworkAssignment, Meeting
from scheduling.models import Attendance, SessionStatus
from scheduling.selectors.sessions import patient_sessions

from .sections import _specimen, test_result

UPCOMING_DAYS = 28


@dataclass
class Part:
    title: str
    header: list[str]
    rows: list[list[str]]
    empty: str = "None."
    widths: list[float] | None = None
    note: str = ""


@dataclass
class PlanPart:
    title: str
    facts: list[tuple[str, str]]
    lines: list[str] = field(default_factory=list)


@dataclass
class RecordContent:
    patient: Patient
    facts: list[tuple[str, str]]
    parts: list[Part]
    plans: list[PlanPart]


def _episodes(patient: Patient) -> Part:
    rows = []
    for e in patient.enrollments.select_related("track", "phase").order_by("admission_date", "pk"):
        ended = (
            f"{format_day(e.discharge_date)} ({e.get_discharge_type_display()})"
            if e.discharge_date
            else ""
        )
        rows.append(
            [
                format_day(e.admission_date),
                ProgramLevel(e.level).label,
                e.track.name if e.track else "",
                e.phase.name if e.phase else "",
                e.get_status_display(),
                ended,
            ]
        )
    return Part(
        "Episodes of care",
        ["Admitted", "Level", "Track", "Phase", "Status", "Discharged"],
        rows,
        widths=[1.1, 1.6, 1.1, 0.9, 0.8, 1.3],
    )


def _schedule(patient: Patient, today: date) -> Part:
    tz = patient.site.tz
    sessions = patient_sessions(patient, today, today + timedelta(days=UPCOMING_DAYS - 1))
    rows = [
        [
            format_day(s.local_date),
            f"{format_time(s.starts_at, tz=tz)} to {format_time(s.ends_at, tz=tz)}",
            s.title,
            "Cancelled" if s.status != SessionStatus.SCHEDULED else (s.room or ""),
        ]
        for s in sessions
    ]
    return Part(
        f"Schedule: the next {UPCOMING_DAYS} days",
        ["Day", "Time", "Session", "Room"],
        rows,
        empty="No sessions scheduled.",
        widths=[1.2, 1.4, 2.4, 1],
    )


def _attendance(patient: Patient) -> Part:
    marks = (
        Attendance.objects.filter(patient=patient)
        .exclude(session__status=SessionStatus.REMOVED)
        .select_related("session")
        .order_by("session__starts_at", "pk")
    )
    rows = [
        [
            format_day(a.session.local_date),
            a.session.title,
            a.get_status_display(),
            f"{a.minutes_credited}",
        ]
        for a in marks
    ]
    return Part(
        "Attendance",
        ["Day", "Session", "Attendance", "Minutes credited"],
        rows,
        empty="No attendance recorded.",
        widths=[1.2, 2.6, 1.3, 1],
    )


def _analytes(results: list[TestResult]) -> str:
    if not results:
        return ""
    merged = effective_results(results)
    found = sorted(
        Analyte(a).label for a, r in merged.items() if r.outcome == AnalyteOutcome.POSITIVE
    )
    clear = sorted(
        Analyte(a).label for a, r in merged.items() if r.outcome == AnalyteOutcome.NEGATIVE
    )
    parts = []
    if found:
        parts.append("positive: " + ", ".join(found))
    if clear:
        parts.append("negative: " + ", ".join(clear))
    return "; ".join(parts)


def _tests(patient: Patient) -> Part:
    selections = (
        Selection.objects.filter(patient=patient)
        .select_related("specimen")
        .prefetch_related(
            Prefetch(
                "specimen__results",
                queryset=TestResult.objects.prefetch_related("analytes").order_by("entered_at"),
            )
        )
        .order_by("date", "pk")
    )
    rows = []
    for s in selections:
        specimen = _specimen(s)
        collection, result, _ = test_result(s, specimen)
        details = _analytes(list(specimen.results.all())) if specimen is not None else ""
        rows.append([format_day(s.date), s.get_kind_display(), collection, result, details])
    return Part(
        "Drug tests and results",
        ["Day", "Kind", "Collection", "Result", "Substances"],
        rows,
        empty="No drug tests.",
        widths=[1.1, 0.8, 0.9, 1.8, 2.2],
        note="A positive point-of-care screen is presumptive until the laboratory confirms it.",
    )


def _meetings(patient: Patient) -> Part:
    tz = patient.site.tz
    rows = [
        [
            format_day(m.held_at, tz=tz),
            m.fellowship_other
            if m.fellowship == Fellowship.OTHER and m.fellowship_other
            else m.get_fellowship_display(),
            m.name,
            m.get_status_display(),
        ]
        for m in Meeting.objects.filter(patient=patient).order_by("held_at", "pk")
    ]
    return Part(
        "Meetings",
        ["Day", "Fellowship", "Meeting", "Status"],
        rows,
        empty="No meetings logged.",
        widths=[1.1, 1.8, 2.2, 1.3],
    )


def _homework(patient: Patient, today: date) -> Part:
    rows = [
        [
            h.title,
            format_day(h.assigned_at, tz=patient.site.tz),
            format_day(h.due_date),
            h.status_label_on(today),
        ]
        for h in HomeworkAssignment.objects.filter(patient=patient).order_by("due_date", "pk")
    ]
    return Part(
        "Homework",
        ["Assignment", "Assigned", "Due", "Status"],
        rows,
        empty="No homework.",
        widths=[2.6, 1.2, 1.2, 1.3],
    )


def _medications(patient: Patient) -> Part:
    rows = [
        [
            m.name,
            m.dose,
            m.get_frequency_display(),
            m.prescriber,
            format_day(m.start_date),
            format_day(m.stop_date) if m.stop_date else "Current",
        ]
        for m in patient.medications.order_by("start_date", "pk")
    ]
    return Part(
        "Medications",
        ["Medication", "Dose", "How often", "Prescriber", "Started", "Stopped"],
        rows,
        empty="No medications recorded.",
        widths=[2, 0.9, 0.9, 1.2, 1.1, 1.1],
    )


def _consents(patient: Patient) -> Part:
    rows = []
    for c in patient.consents.order_by("signed_on", "pk"):
        state = (
            f"Revoked {format_day(c.revoked_on)}"
            if c.revoked_on
            else f"Expires {format_day(c.expires_on)}"
            if c.expires_on
            else "No expiry"
        )
        rows.append(
            [c.recipient, c.purpose, ", ".join(c.section_labels), format_day(c.signed_on), state]
        )
    return Part(
        "Consents to disclose (42 CFR Part 2)",
        ["Recipient", "Purpose", "Letters may report", "Signed", "Ends"],
        rows,
        empty="No consents on file.",
        widths=[1.4, 1.4, 1.8, 1.1, 1.2],
    )


def _scores(patient: Patient) -> Part:
    rows = [
        [
            trend.instrument.short_name,
            format_day(sitting.day),
            str(sitting.administration.total),
            sitting.administration.band,
        ]
        for trend in trends_for(patient)
        for sitting in trend.sittings
    ]
    return Part(
        "Check-in scores",
        ["Questionnaire", "Day", "Score", "Band"],
        rows,
        empty="No completed check-ins.",
        widths=[1.5, 1.3, 0.8, 2],
    )


def _plans(patient: Patient) -> list[PlanPart]:
    tz = patient.site.tz
    versions = portal_versions(patient)
    parts = []
    for index, version in enumerate(versions):
        facts = [
            ("Version", f"{version.number} ({version.get_kind_display()})"),
            ("Level of care", ProgramLevel(version.level).label),
            (
                "Signed",
                format_when(version.signed_at, tz=tz) if version.signed_at else "Not signed",
            ),
        ]
        lines: list[str] = []
        if index == 0:
            if version.strengths:
                lines.append(f"Strengths: {version.strengths}")
            if version.preferences:
                lines.append(f"Preferences: {version.preferences}")
            for problem in version_tree(version):
                lines.append(f"Problem: {problem.problem.description}")
                for goal in problem.goals:
                    lines.append(f"    Goal: {goal.goal.text}")
                    for row in goal.objectives:
                        o = row.objective
                        lines.append(
                            f"        Objective: {o.text} (by {format_day(o.target_date)}; "
                            f"{o.get_status_display().lower()})"
                        )
        parts.append(PlanPart(f"Treatment plan, version {version.number}", facts, lines))
    return parts


def record_content(patient: Patient, *, now: datetime | None = None) -> RecordContent:
    """Everything the record PDF prints, for one patient only."""
    now = clock.now(now)
    today = site_today(patient.site, now)
    facts = [
        ("Name", patient.legal_name),
        ("Preferred name", patient.preferred_name or "-"),
        ("Date of birth", format_day(patient.date_of_birth)),
        ("Record number", patient.mrn),
        ("Produced", format_when(now, tz=patient.site.tz)),
    ]
    parts = [
        _episodes(patient),
        _schedule(patient, today),
        _attendance(patient),
        _tests(patient),
        _meetings(patient),
        _homework(patient, today),
        _medications(patient),
        _scores(patient),
        _consents(patient),
    ]
    return RecordContent(patient=patient, facts=facts, parts=parts, plans=_plans(patient))
