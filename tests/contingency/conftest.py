"""A CM program at the test site, a patient enrolled on it, and a way to give that
patient a drug test on any day through drugtests' real services (collection, cup and
lab results, refusal, the missed deadline)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest

from core.clock import local_datetime, week_start

NEG = "negative"
POS = "positive"
NT = "not_tested"


@pytest.fixture
def cm_policy(site):
    from drugtests.models import DEFAULT_PANEL, TestingPolicy

    return TestingPolicy.objects.create(
        site=site,
        name="CM panel",
        frequency=2,
        period="week",
        collection_days="0123456",
        panel=[str(a) for a in DEFAULT_PANEL],
    )


@pytest.fixture
def program(site, test_now):
    from contingency.models import Program

    return Program.objects.create(site=site, name="Stimulant CM", created_at=test_now)


@pytest.fixture
def episode_start(today) -> date:
    """A Monday about five months back: 40 tests twice a week end before today."""
    return week_start(today - timedelta(weeks=21))


@pytest.fixture
def cm_patient(patient):
    return patient


@pytest.fixture
def episode(program, cm_patient, counselor, episode_start, test_now):
    from contingency.services.ledger import cm_enroll

    return cm_enroll(
        actor=counselor, program=program, patient=cm_patient, starts_on=episode_start, now=test_now
    )


@dataclass
class Tester:
    """Drug tests for one patient on chosen days, through drugtests' services."""

    patient: Any
    policy: Any
    collector: Any
    n: int = 0
    made: list[Any] = field(default_factory=list)

    def at(self, day: date, hh: int, mm: int = 0) -> datetime:
        return local_datetime(day, time(hh, mm), self.patient.site.tz)

    def order(self, day: date):
        from drugtests.models import Selection

        self.n += 1
        selection = Selection.objects.create(
            patient=self.patient,
            site=self.patient.site,
            date=day,
            kind=Selection.Kind.FOR_CAUSE,
            policy=self.policy,
            reason="CM schedule",
            deadline=self.at(day, 17),
            created_at=self.at(day, 8),
        )
        self.made.append(selection)
        return selection

    def collect(self, selection, *, validity: str = "", method: str = "poc"):
        from drugtests.services.collection import specimen_collect

        day = selection.date
        return specimen_collect(
            actor=self.collector,
            selection=selection,
            chain_of_custody_id=f"COC-{self.patient.pk}-{selection.pk}",
            method=method,
            observed=True,
            temperature_in_range=validity == "",
            validity=validity,
            collected_at=self.at(day, 9),
            now=self.at(day, 9, 5),
        )

    def result(self, selection, analytes: dict[str, str], *, source: str = "poc", on=None):
        from drugtests.services.results import result_enter

        on = on or selection.date
        return result_enter(
            actor=self.collector,
            selection=selection,
            source=source,
            analytes={a: (o, None) for a, o in analytes.items()},
            lab_name="Quest" if source == "lab" else "",
            now=self.at(on, 9, 30) if source == "poc" else self.at(on, 14),
        )

    def cup(self, day: date, **analytes: str):
        """A collected cup read on the day: cocaine, amphetamine, methamphetamine and
        MDMA negative unless given, plus what is given (e.g. thc="positive")."""
        selection = self.order(day)
        self.collect(selection)
        read = {
            "cocaine": NEG,
            "amphetamine": NEG,
            "methamphetamine": NEG,
            "mdma": NEG,
            **analytes,
        }
        self.result(selection, read)
        return selection

    def refuse(self, day: date):
        from drugtests.services.collection import selection_refuse

        selection = self.order(day)
        return selection_refuse(actor=self.collector, selection=selection, now=self.at(day, 10))

    def miss(self, day: date):
        from drugtests.services.results import selections_mark_missed

        selection = self.order(day)
        selections_mark_missed(now=self.at(day, 17, 1), site=self.patient.site)
        selection.refresh_from_db()
        return selection


@pytest.fixture
def tester(cm_patient, cm_policy, collector) -> Tester:
    return Tester(patient=cm_patient, policy=cm_policy, collector=collector)


@pytest.fixture
def run_tasks_inline(monkeypatch):
    """The receivers' on-commit publish runs the task in this process (what the worker
    would run), so a test inside one transaction goes signal -> receiver -> task."""
    from contingency import receivers, tasks

    ran: list[tuple[str, list[int]]] = []

    def run(task_name: str, ids: list[int]) -> None:
        ran.append((task_name, ids))
        getattr(tasks, task_name)(ids)

    monkeypatch.setattr(receivers, "_publish", run)
    return ran


def money(value: str) -> Decimal:
    return Decimal(value)


@pytest.fixture
def no_publish(monkeypatch):
    """Committed writes queue nothing on the broker (the test counts by itself)."""
    from contingency import receivers

    queued: list[tuple[str, list[int]]] = []
    monkeypatch.setattr(receivers, "_publish", lambda name, ids: queued.append((name, ids)))
    return queued


@pytest.fixture
def attendance_program(site, test_now):
    from contingency.models import Program, Target

    return Program.objects.create(
        site=site, name="Attendance CM", target=Target.ATTENDANCE, created_at=test_now
    )


@pytest.fixture
def attender(make_patient, track):
    return make_patient(first="Sam", last="Attends", track=track)


@pytest.fixture
def attendance_episode(attendance_program, attender, counselor, episode_start, test_now):
    from contingency.services.ledger import cm_enroll

    return cm_enroll(
        actor=counselor,
        program=attendance_program,
        patient=attender,
        starts_on=episode_start,
        now=test_now,
    )


@pytest.fixture
def group_session(site, track, today):
    """Yesterday evening's group of the patients' track (18:00-21:00 site time)."""
    from scheduling.models import Session

    day = today - timedelta(days=1)

    def make(on: date = day):
        return Session.objects.create(
            site=site,
            track=track,
            local_date=on,
            starts_at=local_datetime(on, time(18), site.tz),
            ends_at=local_datetime(on, time(21), site.tz),
            kind="group",
            facilitator=track.default_facilitator,
            capacity=12,
            created_at=local_datetime(on, time(8), site.tz) - timedelta(days=30),
        )

    return make


@pytest.fixture
def mark(counselor):
    """Record a patient's attendance at a session through scheduling's service."""
    from scheduling.services.attendance import attendance_record

    def record(session, patient, status: str):
        return attendance_record(
            actor=counselor,
            session=session,
            patient=patient,
            status=status,
            reason="Entered after the session",
            now=session.ends_at + timedelta(hours=1),
        )

    return record
