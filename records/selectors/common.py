"""Reads more than one area of the record needs: the plan in force and its objectives
(a note names the objectives it addressed), and when each open episode's plan is due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Max, OuterRef, Q, QuerySet, Subquery

from core.clock import site_today
from patients.models import Enrollment, EnrollmentEvent, Patient

from ..clocks import PlanDue, plan_due
from ..models import ObjectiveStatus, PlanObjective, PlanVersion, RecordSettings, RecordStatus


def current_plan_version(patient: Patient) -> PlanVersion | None:
    """The latest signed version of the patient's plan in their open (or latest) episode."""
    return (
        PlanVersion.objects.filter(plan__patient=patient)
        .exclude(status=RecordStatus.DRAFT)
        # The site comes along: the list says when the plan was signed on its clock.
        .select_related("plan__enrollment__site", "author")
        .order_by("-plan__enrollment__admission_date", "-number")
        .first()
    )


def objectives_for_notes(patient: Patient) -> QuerySet[PlanObjective]:
    """The active objectives of the plan in force: what a note may say it addressed."""
    version = current_plan_version(patient)
    if version is None:
        return PlanObjective.objects.none()
    return (
        PlanObjective.objects.filter(version=version, status=ObjectiveStatus.ACTIVE)
        .select_related("goal__problem")
        .order_by("goal__problem__position", "goal__position", "position", "pk")
    )


@dataclass(frozen=True)
class EpisodePlanDue:
    enrollment: Enrollment
    due: PlanDue
    has_plan: bool

    def overdue(self, today: date) -> bool:
        return self.due.is_overdue(today)


def plans_due(enrollments: QuerySet[Enrollment]) -> list[EpisodePlanDue]:
    """When each episode's plan (or its review) is due: one query whatever the count (the
    episodes with their latest signature and level change annotated, and their sites'
    rules joined: a one-to-one row that may be absent)."""
    last_signed = (
        PlanVersion.objects.filter(plan__enrollment=OuterRef("pk"))
        .exclude(status=RecordStatus.DRAFT)
        .order_by("-signed_at")
        .values("signed_at")[:1]
    )
    rows = list(
        enrollments.select_related("site__record_settings", "patient")
        .annotate(
            last_signed_at=Subquery(last_signed),
            last_level_change=Max(
                "events__effective_date", filter=Q(events__kind=EnrollmentEvent.Kind.LEVEL)
            ),
        )
        .order_by("pk")
    )
    result = []
    for enrollment in rows:
        site_rules: RecordSettings | None = getattr(enrollment.site, "record_settings", None)
        if site_rules is None:
            site_rules = RecordSettings(site=enrollment.site)
        signed_at = enrollment.last_signed_at
        signed_on = site_today(enrollment.site, signed_at) if signed_at is not None else None
        due = plan_due(
            rules=site_rules,
            level=enrollment.level,
            admission_date=enrollment.admission_date,
            last_signed_on=signed_on,
            last_level_change_on=enrollment.last_level_change,
        )
        result.append(
            EpisodePlanDue(enrollment=enrollment, due=due, has_plan=signed_on is not None)
        )
    return result
