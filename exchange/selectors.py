"""Reads for the FHIR export: one patient's record in a fixed number of queries, whatever
the number of sessions, tests, sittings or plans (pinned in tests/exchange), and the
patient a command line names by MRN."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Prefetch

from drugtests.models import Specimen, TestResult
from measures.models import Administration, InstrumentItem
from patients.models import (
    Consent,
    Enrollment,
    EnrollmentEvent,
    MedicationOrder,
    Patient,
    ScheduledChange,
)
from records.models import (
    PlanGoal,
    PlanIntervention,
    PlanObjective,
    PlanProblem,
    PlanVersion,
)
from scheduling.models import ATTENDED_STATUSES, Attendance, SessionStatus


@dataclass
class PlanContent:
    """The latest signed version of one episode's plan, with its parts."""

    version: PlanVersion
    problems: list[PlanProblem] = field(default_factory=list)
    goals: list[PlanGoal] = field(default_factory=list)
    objectives: list[PlanObjective] = field(default_factory=list)
    interventions: list[PlanIntervention] = field(default_factory=list)


@dataclass
class PatientRecord:
    """Everything of one patient's that the FHIR Bundle holds; nothing of anyone else's
    beyond the staff names the record itself shows (facilitators, authors, collectors)."""

    patient: Patient
    enrollments: list[Enrollment]
    planned_admissions: list[ScheduledChange]
    attendance: list[Attendance]
    specimens: list[Specimen]
    medications: list[MedicationOrder]
    consents: list[Consent]
    plans: list[PlanContent]
    sittings: list[Administration]


def patient_for_export(pk: int) -> Patient:
    return Patient.objects.select_related("site", "organization").get(pk=pk)


def patients_by_mrn(mrn: str, *, site_code: str | None = None) -> list[Patient]:
    """Every patient with this MRN (unique within an organisation, so several only when
    the deployment serves several organisations), narrowed to a site's code if given."""
    rows = Patient.objects.filter(mrn=mrn).select_related("site", "organization")
    if site_code:
        rows = rows.filter(site__code=site_code)
    return list(rows.order_by("organization__name", "site__code", "pk"))


def _staff(prefix: str) -> tuple[str, str]:
    # The person and their profile (credentials) in the same join.
    return prefix, f"{prefix}__staff_profile"


def patient_record(patient: Patient) -> PatientRecord:
    """The patient's record for the export: 17 queries, however long the record."""
    enrollments = list(
        Enrollment.objects.filter(patient=patient)
        .select_related("site")
        .prefetch_related(
            Prefetch(
                "events",
                queryset=EnrollmentEvent.objects.order_by("effective_date", "recorded_at", "pk"),
            )
        )
        .order_by("admission_date", "pk")
    )
    planned = list(
        ScheduledChange.objects.filter(
            patient=patient,
            kind=ScheduledChange.Kind.ADMISSION,
            status__in=[
                ScheduledChange.Status.PENDING,
                ScheduledChange.Status.CANCELLED,
                ScheduledChange.Status.FAILED,
            ],
        ).order_by("effective_date", "pk")
    )
    attendance = list(
        Attendance.objects.filter(
            patient=patient,
            status__in=ATTENDED_STATUSES,
            session__status=SessionStatus.SCHEDULED,
        )
        .select_related("session__site", *_staff("session__facilitator"))
        .order_by("session__starts_at", "pk")
    )
    specimens = list(
        Specimen.objects.filter(patient=patient)
        .select_related("selection__site", *_staff("collected_by"))
        .prefetch_related(
            Prefetch(
                "results",
                queryset=TestResult.objects.order_by("entered_at", "pk").prefetch_related(
                    "analytes"
                ),
            )
        )
        .order_by("collected_at", "pk")
    )
    medications = list(MedicationOrder.objects.filter(patient=patient).order_by("start_date", "pk"))
    consents = list(Consent.objects.filter(patient=patient).order_by("signed_on", "pk"))
    sittings = list(
        Administration.objects.filter(patient=patient, status=Administration.Status.COMPLETED)
        .select_related("instrument", *_staff("entered_by"))
        .prefetch_related(
            "answers",
            Prefetch("instrument__items", queryset=InstrumentItem.objects.order_by("number", "pk")),
        )
        .order_by("completed_at", "pk")
    )
    return PatientRecord(
        patient=patient,
        enrollments=enrollments,
        planned_admissions=planned,
        attendance=attendance,
        specimens=specimens,
        medications=medications,
        consents=consents,
        plans=_current_plans(patient),
        sittings=sittings,
    )


def _current_plans(patient: Patient) -> list[PlanContent]:
    """Each episode's plan as last signed (a draft is the clinician's work in progress;
    earlier versions were replaced by the review that followed them): five queries."""
    latest: dict[int, PlanVersion] = {}
    signed = (
        PlanVersion.objects.filter(plan__patient=patient, signed_at__isnull=False)
        .select_related("plan__enrollment", *_staff("author"))
        .order_by("plan_id", "number")
    )
    for version in signed:
        latest[version.plan_id] = version
    plans = {v.pk: PlanContent(v) for v in latest.values()}
    if not plans:
        return []
    ids = list(plans)
    for problem in PlanProblem.objects.filter(version_id__in=ids).order_by("position", "pk"):
        plans[problem.version_id].problems.append(problem)
    for goal in PlanGoal.objects.filter(version_id__in=ids).order_by("position", "pk"):
        plans[goal.version_id].goals.append(goal)
    for objective in PlanObjective.objects.filter(version_id__in=ids).order_by("position", "pk"):
        plans[objective.version_id].objectives.append(objective)
    interventions = (
        PlanIntervention.objects.filter(version_id__in=ids)
        .select_related(*_staff("responsible"))
        .order_by("position", "pk")
    )
    for intervention in interventions:
        plans[intervention.version_id].interventions.append(intervention)
    return sorted(
        plans.values(),
        key=lambda c: (c.version.plan.enrollment.admission_date, c.version.plan_id),
    )
