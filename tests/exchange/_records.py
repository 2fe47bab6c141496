"""Rows of a patient's record written straight to their tables (sessions, drug tests,
plans: what their own apps' tests cover through the services)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import count

from core.clock import local_datetime

_serial = count(1)


def make_session(site, track, day: date, facilitator, topic="Coping with cravings"):
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


def attend(session, patient, status="present", minutes=180):
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


def make_drug_test(patient, day: date, collector, nurse, *, lab: bool, validity="valid"):
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


def make_plan(patient, author, signed_at: datetime, *, responsible):
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
