"""Reads of treatment plans: the access-checking getters (404 plus an audit row for what
the user may not see) and the plan page's data in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpRequest

from core.access import get_or_deny
from core.models import Role, User
from patients.access import patients_visible_to
from patients.models import OPEN_STATUSES, Enrollment, Patient

from ..models import (
    Addendum,
    PlanGoal,
    PlanIntervention,
    PlanObjective,
    PlanProblem,
    PlanVersion,
    RecordStatus,
    Signature,
    TreatmentPlan,
)
from .common import EpisodePlanDue, plans_due

DENIED = "records.plan.view"


def _versions() -> QuerySet[PlanVersion]:
    return PlanVersion.objects.select_related(
        "plan__enrollment__site", "plan__patient__site", "author", "cosigned_by"
    )


def version_get_for_user(user: User, pk: int, *, request: HttpRequest | None = None) -> PlanVersion:
    return get_or_deny(
        user,
        _versions().filter(plan__patient__in=patients_visible_to(user)),
        action=DENIED,
        message="No such plan.",
        detail={"version": pk},
        request=request,
        pk=pk,
    )


def plan_get_for_user(user: User, pk: int, *, request: HttpRequest | None = None) -> TreatmentPlan:
    return get_or_deny(
        user,
        TreatmentPlan.objects.select_related("enrollment__site", "patient").filter(
            patient__in=patients_visible_to(user)
        ),
        action=DENIED,
        message="No such plan.",
        detail={"plan": pk},
        request=request,
        pk=pk,
    )


def current_enrollment(patient: Patient) -> Enrollment | None:
    """The open episode, else the latest one."""
    rows = list(
        Enrollment.objects.filter(patient=patient)
        .select_related("site")
        .order_by("-admission_date", "-pk")
    )
    return next((e for e in rows if e.status in OPEN_STATUSES), rows[0] if rows else None)


@dataclass
class ObjectiveRow:
    objective: PlanObjective
    interventions: list[PlanIntervention] = field(default_factory=list)


@dataclass
class GoalRow:
    goal: PlanGoal
    objectives: list[ObjectiveRow] = field(default_factory=list)


@dataclass
class ProblemRow:
    problem: PlanProblem
    goals: list[GoalRow] = field(default_factory=list)


def version_tree(version: PlanVersion) -> list[ProblemRow]:
    """Problems -> goals -> objectives -> interventions of one version: four queries."""
    problems = [
        ProblemRow(p)
        for p in PlanProblem.objects.filter(version=version).order_by("position", "pk")
    ]
    by_problem = {row.problem.pk: row for row in problems}
    goals: dict[int, GoalRow] = {}
    for g in PlanGoal.objects.filter(version=version).order_by("position", "pk"):
        goals[g.pk] = GoalRow(g)
        by_problem[g.problem_id].goals.append(goals[g.pk])
    objectives: dict[int, ObjectiveRow] = {}
    for o in PlanObjective.objects.filter(version=version).order_by("position", "pk"):
        objectives[o.pk] = ObjectiveRow(o)
        goals[o.goal_id].objectives.append(objectives[o.pk])
    interventions = (
        PlanIntervention.objects.filter(version=version)
        .select_related("responsible")
        .order_by("position", "pk")
    )
    for i in interventions:
        objectives[i.objective_id].interventions.append(i)
    return problems


def _with_signatures(qs: QuerySet[PlanVersion]) -> QuerySet[PlanVersion]:
    return qs.prefetch_related(
        Prefetch("signatures", queryset=Signature.objects.order_by("signed_at", "pk")),
        Prefetch(
            "addenda", queryset=Addendum.objects.select_related("author").order_by("written_at")
        ),
    )


@dataclass
class PlanPage:
    patient: Patient
    enrollment: Enrollment | None
    plan: TreatmentPlan | None
    versions: list[PlanVersion]
    in_force: PlanVersion | None
    draft: PlanVersion | None
    tree: list[ProblemRow]
    due: EpisodePlanDue | None
    today: date | None

    @property
    def days_left(self) -> int | None:
        if self.due is None or self.today is None:
            return None
        return self.due.due.days_left(self.today)

    @property
    def overdue(self) -> bool:
        return self.days_left is not None and self.days_left < 0


def episode_due(enrollment: Enrollment | None) -> EpisodePlanDue | None:
    if enrollment is None or enrollment.status not in OPEN_STATUSES:
        return None
    found = plans_due(Enrollment.objects.filter(pk=enrollment.pk))
    return found[0] if found else None


def plan_page(patient: Patient, today: date) -> PlanPage:
    """The plan of the patient's current episode: every version of every episode's plan
    (newest first) with its signatures and addenda, the version in force with its parts,
    the draft if any, and when the next plan or review is due. A fixed number of queries
    whatever the number of versions and parts."""
    enrollment = current_enrollment(patient)
    versions = list(
        _with_signatures(
            _versions()
            .filter(plan__patient=patient)
            .order_by("-plan__enrollment__admission_date", "-number")
        )
    )
    plan = next(
        (v.plan for v in versions if enrollment and v.plan.enrollment_id == enrollment.pk), None
    )
    if plan is None and enrollment is not None:
        plan = TreatmentPlan.objects.filter(enrollment=enrollment).first()
    mine = [v for v in versions if plan is not None and v.plan_id == plan.pk]
    in_force = next((v for v in mine if v.status != RecordStatus.DRAFT), None)
    draft = next((v for v in mine if v.status == RecordStatus.DRAFT), None)
    return PlanPage(
        patient=patient,
        enrollment=enrollment,
        plan=plan,
        versions=versions,
        in_force=in_force,
        draft=draft,
        tree=version_tree(in_force) if in_force is not None else [],
        due=episode_due(enrollment),
        today=today,
    )


def version_with_signatures(version: PlanVersion) -> PlanVersion:
    return _with_signatures(_versions().filter(pk=version.pk)).get()


def portal_versions(patient: Patient) -> list[PlanVersion]:
    """What the patient sees of their plans: the signed versions (a draft is the
    clinician's work in progress), newest first."""
    return list(
        _with_signatures(
            _versions()
            .filter(plan__patient=patient)
            .exclude(status=RecordStatus.DRAFT)
            .order_by("-plan__enrollment__admission_date", "-number")
        )
    )


def portal_plan_version(patient: Patient) -> PlanVersion | None:
    """The latest signed version of the patient's open episode's plan (one query)."""
    return (
        PlanVersion.objects.filter(
            plan__patient=patient,
            signed_at__isnull=False,
            plan__enrollment__status__in=OPEN_STATUSES,
        )
        .order_by("-number")
        .first()
    )


def staff_for_site(site_id: int, organization_id: int) -> QuerySet[User]:
    """Who may be named responsible for an intervention: the site's active staff."""
    return (
        User.objects.filter(
            Q(staff_profile__sites__pk=site_id) | Q(staff_profile__role=Role.DIRECTOR),
            is_active=True,
            staff_profile__organization_id=organization_id,
        )
        .distinct()
        .order_by("last_name", "first_name", "pk")
    )
