"""A patient with four weeks of a known record (frozen at the suite's scenario instant,
Wed Nov 18 2026 10:30 in New York): an IOP evening track (Mon, Tue, Thu 18:00-21:00,
nine hours a week against the 9-hour minimum), attendance of every kind, drug tests in
each state, meetings verified and not, and a consent to a court that covers attendance,
drug tests and status but not meetings."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

NY = ZoneInfo("America/New_York")
COURT = "County Drug Court"
# The period the scenario's letters cover: a part week, then two whole weeks.
START, END = date(2026, 10, 15), date(2026, 11, 1)


def pdf_text(content: bytes) -> str:
    """The PDF's text, whitespace collapsed (a table cell or a long line wraps)."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=NY)


@dataclass
class World:
    patient: object
    consent: object
    track: object
    sessions: dict


@pytest.fixture
def policy(site):
    from drugtests.models import TestingPolicy

    return TestingPolicy.objects.create(
        site=site, name="Site default", frequency=1, period="week", panel=["cocaine", "fentanyl"]
    )


def collect(actor, patient, day: date, *, code: str):
    """A for-cause cup collected at 11:00 on ``day``."""
    from drugtests.services.collection import specimen_collect

    return specimen_collect(
        actor=actor,
        patient=patient,
        for_cause_reason="Court-ordered test",
        chain_of_custody_id=code,
        method="poc",
        observed=True,
        temperature_in_range=True,
        validity="valid",
        collected_at=at(day, 11),
        now=at(day, 11, 5),
    )


def enter(actor, selection, source: str, cocaine: str, day: date):
    from drugtests.services.results import result_enter

    return result_enter(
        actor=actor,
        selection=selection,
        source=source,
        analytes={"cocaine": (cocaine, None), "fentanyl": ("negative", None)},
        lab_name="Quest" if source == "lab" else "",
        now=at(day, 15),
    )


@pytest.fixture
def court_consent(frontdesk):
    from patients.services.consents import consent_create

    def make(patient, *, sections=("attendance", "drug_tests", "status"), **extra):
        return consent_create(
            actor=frontdesk,
            patient=patient,
            recipient=extra.pop("recipient", COURT),
            purpose="Court-ordered treatment compliance",
            information_disclosed="Attendance, drug test results and program status",
            sections=list(sections),
            signed_on=extra.pop("signed_on", date(2026, 9, 1)),
            **extra,
        )

    return make


@pytest.fixture
def world(patient, track, counselor, nurse, collector, policy, court_consent):
    """The scenario on ``patient`` (call it from tests frozen at SCENARIO_NOW)."""
    from patients.services.enrollment import enrollment_change_track
    from recovery.services.meetings import meeting_log, meeting_review
    from scheduling.models import Session
    from scheduling.services.attendance import attendance_record
    from scheduling.services.materialization import sessions_materialize
    from scheduling.services.series import series_create

    series_create(
        actor=counselor,
        track=track,
        weekdays=["MO", "TU", "TH"],
        start_time=time(18),
        end_time=time(21),
        starts_on=date(2026, 10, 1),
        now=at(date(2026, 9, 30), 9),
    )
    enrollment_change_track(
        actor=counselor,
        enrollment=patient.enrollments.get(),
        track=track,
        effective_date=date(2026, 10, 1),
    )
    sessions_materialize(site=track.site, now=at(date(2026, 9, 30), 9), first=date(2026, 10, 1))
    sessions = {s.local_date: s for s in Session.objects.filter(track=track)}
    marks = {
        date(2026, 10, 15): ("late", at(date(2026, 10, 15), 18, 30)),  # 150 minutes
        date(2026, 10, 19): ("present", None),
        date(2026, 10, 20): ("present", None),
        date(2026, 10, 22): ("present", None),
        date(2026, 10, 26): ("present", None),
        date(2026, 10, 27): ("excused", None),
        date(2026, 10, 29): ("unexcused", None),
    }
    for day, (status, arrived) in marks.items():
        attendance_record(
            actor=counselor,
            session=sessions[day],
            patient=patient,
            status=status,
            arrived_at=arrived,
            reason="Entered from the paper sign-in sheet",
        )
    # Drug tests: a negative cup (final), a positive cup (presumptive until the lab),
    # a missed test.
    negative = collect(collector, patient, date(2026, 10, 21), code="COC-1")
    enter(nurse, negative.selection, "poc", "negative", date(2026, 10, 21))
    positive = collect(collector, patient, date(2026, 10, 27), code="COC-2")
    enter(nurse, positive.selection, "poc", "positive", date(2026, 10, 27))
    from drugtests.services.collection import for_cause_order
    from drugtests.services.results import selections_mark_missed

    for_cause_order(
        actor=nurse, patient=patient, reason="Missed check-in", now=at(date(2026, 10, 29), 9)
    )
    selections_mark_missed(now=at(date(2026, 10, 30), 9), site=patient.site)
    verified = meeting_log(
        actor=patient.user,
        patient=patient,
        held_at=at(date(2026, 10, 24), 19),
        fellowship="aa",
        name="Saturday Serenity",
        mode="in_person",
        place="St. Mark's hall",
        now=at(date(2026, 10, 25), 9),
    )
    meeting_review(actor=counselor, meeting=verified, verify=True, now=at(date(2026, 10, 26), 9))
    meeting_log(
        actor=patient.user,
        patient=patient,
        held_at=at(date(2026, 10, 28), 19),
        fellowship="na",
        name="Unverified Wednesday",
        mode="online",
        now=at(date(2026, 10, 29), 9),
    )
    consent = court_consent(patient)
    return World(patient=patient, consent=consent, track=track, sessions=sessions)
