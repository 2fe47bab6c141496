"""A patient's record in every kind the FHIR export holds, built quickly: the episodes,
consents and medications through the patients services (history and audit as in use),
sessions, drug tests and plans straight to their tables (what their own apps' tests
cover), and check-ins through the measures services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import count

import pytest

from core.clock import local_datetime

_serial = count(1)


@dataclass
class Built:
    patient: object
    sessions: list
    specimens: list


def _session(site, track, day: date, facilitator, topic="Coping with cravings"):
    from scheduling.models import Session

    starts = local_datetime(day, time(18, 0), site.tz)
    return Session.objects.create(
        site=site,
        track=track,
        local_date=day,
        starts_at=starts,
        ends_at=starts + timedelta(hours=3),
        kind="relapse_prevention",
        topic=topic,
        facilitator=facilitator,
        created_at=starts - timedelta(days=7),
    )


def _attend(session, patient, status="present", minutes=180):
    from scheduling.models import Attendance

    credited = minutes if status in ("present", "late", "left_early") else 0
    return Attendance.objects.create(
        session=session,
        patient=patient,
        status=status,
        minutes_credited=credited,
        recorded_at=session.ends_at,
        updated_at=session.ends_at,
    )


def _drug_test(patient, day: date, collector, nurse, *, lab: bool, validity="valid"):
    from drugtests.models import (
        AnalyteResult,
        Selection,
        Specimen,
        TestingPolicy,
        TestResult,
    )

    site = patient.site
    policy = TestingPolicy.objects.filter(site=site).first() or TestingPolicy.objects.create(
        site=site, name="Phase 1", frequency=2, panel=["cocaine", "buprenorphine", "xylazine"]
    )
    at = local_datetime(day, time(10, 15), site.tz)
    selection = Selection.objects.create(
        patient=patient,
        site=site,
        date=day,
        kind="for_cause",
        reason="Observed behaviour",
        policy=policy,
        deadline=at + timedelta(hours=6),
        status="collected",
        outcome="positive",
        created_at=at - timedelta(hours=1),
    )
    specimen = Specimen.objects.create(
        selection=selection,
        patient=patient,
        collected_by=collector,
        collected_at=at,
        specimen_type="urine",
        observed=True,
        temperature_in_range=True,
        validity=validity,
        chain_of_custody_id=f"COC-X{next(_serial)}",
        method="lab" if lab else "poc",
    )
    cup = TestResult.objects.create(
        specimen=specimen, source="poc", entered_by=nurse, entered_at=at + timedelta(minutes=5)
    )
    rows = [
        ("cocaine", "positive", Decimal("350"), "unexpected_positive"),
        ("buprenorphine", "negative", None, "prescribed_absent"),
        ("xylazine", "not_tested", None, "not_tested"),
        # No LOINC code in the groundwork's table: exported with its name only.
        ("thc", "negative", None, "expected_negative"),
    ]
    for analyte, outcome, ng_ml, interpretation in rows:
        AnalyteResult.objects.create(
            result=cup,
            analyte=analyte,
            outcome=outcome,
            ng_ml=ng_ml,
            interpretation=interpretation,
        )
    if lab:
        confirmed = TestResult.objects.create(
            specimen=specimen,
            source="lab",
            lab_name="Acme Toxicology",
            entered_by=nurse,
            entered_at=at + timedelta(days=2),
        )
        AnalyteResult.objects.create(
            result=confirmed,
            analyte="cocaine",
            outcome="positive",
            ng_ml=Decimal("412.5"),
            interpretation="unexpected_positive",
        )
    return specimen


def _plan(patient, author, signed_at: datetime, *, responsible):
    from records.models import (
        PlanGoal,
        PlanIntervention,
        PlanObjective,
        PlanProblem,
        PlanVersion,
        TreatmentPlan,
    )

    enrollment = patient.enrollments.order_by("-admission_date", "-pk").first()
    plan = TreatmentPlan.objects.create(
        enrollment=enrollment, patient=patient, created_at=signed_at - timedelta(days=1)
    )
    versions = []
    for number in (1, 2):
        version = PlanVersion.objects.create(
            plan=plan,
            number=number,
            kind="initial" if number == 1 else "review",
            level=enrollment.level,
            strengths=f"Supportive sister (v{number})",
            preferences="Evening groups",
            author=author,
            created_at=signed_at - timedelta(hours=1),
            updated_at=signed_at,
            author_credentials="LCSW",
        )
        problem = PlanProblem.objects.create(
            version=version, dimension=5, description=f"Cravings after work (v{number})"
        )
        goal = PlanGoal.objects.create(
            version=version, problem=problem, text=f"I want to stay clean for my kids (v{number})"
        )
        objective = PlanObjective.objects.create(
            version=version,
            goal=goal,
            text="Attend 3 groups a week",
            target_date=signed_at.date() + timedelta(days=30),
            status="met" if number == 1 else "active",
        )
        PlanIntervention.objects.create(
            version=version,
            objective=objective,
            service_type="relapse_prevention",
            frequency="3 groups a week",
            responsible=responsible,
        )
        # Signed once its parts are written (the database refuses changes after).
        signed = signed_at + timedelta(days=number - 1)
        PlanVersion.objects.filter(pk=version.pk).update(
            status="signed", signed_at=signed, content_hash="0" * 64, patient_signed_at=signed
        )
        versions.append(version)
    return versions


@pytest.fixture
def make_record(make_patient, counselor, nurse, collector, frontdesk, track, today, test_now):
    """make_record(first=..., last=..., sessions=n, tests=n): a patient with a discharged
    and a current episode (with a hold), ``sessions`` sessions attended (plus one missed),
    ``tests`` drug tests (the first confirmed by a lab), two check-ins, two medications,
    two consents and a signed plan (two versions)."""
    from measures.models import Administration
    from patients.services.admission import enrollment_readmit
    from patients.services.consents import consent_create, consent_revoke
    from patients.services.enrollment import (
        enrollment_discharge,
        enrollment_hold,
        enrollment_resume,
    )
    from patients.services.medication import medication_order_create, medication_order_stop
    from tests.measures._chart_fixtures import sit, sit_phq9

    def make(*, first: str, last: str, sessions: int = 2, tests: int = 2, shared=None) -> Built:
        start = today - timedelta(days=90)
        patient = make_patient(first=first, last=last, admitted=start, portal=True)
        first_stay = patient.enrollments.get()
        enrollment_discharge(
            actor=counselor,
            enrollment=first_stay,
            discharge_date=start + timedelta(days=20),
            discharge_type="ama",
            aftercare_plan="Outpatient follow-up",
            now=test_now,
        )
        stay = enrollment_readmit(
            actor=frontdesk,
            patient=patient,
            level="2.1",
            admission_date=start + timedelta(days=30),
            now=test_now,
        )
        enrollment_hold(
            actor=counselor,
            enrollment=stay,
            effective_date=start + timedelta(days=40),
            reason="Family emergency",
            now=test_now,
        )
        stay.refresh_from_db()
        enrollment_resume(
            actor=counselor,
            enrollment=stay,
            effective_date=start + timedelta(days=45),
            now=test_now,
        )
        days = [today - timedelta(days=2 + i) for i in range(sessions)]
        made_sessions = shared or [_session(patient.site, track, d, counselor) for d in days]
        for session in made_sessions:
            _attend(session, patient)
        missed = _session(patient.site, track, today - timedelta(days=30), counselor, "Missed")
        _attend(missed, patient, status="unexcused")
        specimens = [
            _drug_test(patient, today - timedelta(days=3 + i), collector, nurse, lab=i == 0)
            for i in range(tests)
        ]
        at = test_now - timedelta(days=5)
        sit_phq9(patient, 12, at=at, actor=patient.user)
        from measures.services.administrations import instrument_current

        sit(
            patient,
            instrument_current("gad7"),
            dict.fromkeys(range(1, 8), 1),
            at=at + timedelta(hours=1),
            actor=counselor,
            mode=Administration.Mode.WITH_STAFF,
        )
        medication_order_create(
            actor=nurse,
            patient=patient,
            medication="buprenorphine_naloxone",
            dose="16 mg",
            frequency="daily",
            prescriber="Dr. Adler",
            start_date=start + timedelta(days=31),
        )
        stopped = medication_order_create(
            actor=nurse,
            patient=patient,
            medication="naltrexone_xr",
            dose="380 mg",
            frequency="monthly",
            prescriber="Dr. Adler",
            start_date=start,
        )
        medication_order_stop(
            actor=nurse, order=stopped, stop_date=start + timedelta(days=20), reason="Discharged"
        )
        consent_create(
            actor=frontdesk,
            patient=patient,
            recipient=f"County Court for {last}",
            purpose="Compliance reporting",
            information_disclosed="Attendance and drug test results",
            signed_on=start + timedelta(days=31),
            now=test_now,
        )
        revoked = consent_create(
            actor=frontdesk,
            patient=patient,
            recipient="Employer assistance program",
            purpose="Return to work",
            information_disclosed="Attendance",
            signed_on=start + timedelta(days=32),
            now=test_now,
        )
        consent_revoke(actor=frontdesk, consent=revoked, revoked_on=start + timedelta(days=50))
        _plan(
            patient,
            counselor,
            local_datetime(start + timedelta(days=33), time(11, 0), patient.site.tz),
            responsible=counselor,
        )
        return Built(patient=patient, sessions=made_sessions, specimens=specimens)

    return make
