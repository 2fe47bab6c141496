"""Demo plans, written through the services (so every hash, signature and audit row is
real): signed initial plans for most open episodes, signed a few days after admission so
some reviews are due soon and some overdue; review versions for most long stays; one
draft; some waiting for the patient's signature (patient1's among them, so the portal
shows "sign it"); the counselor-in-training's plans waiting for the director's
countersignature (left for the queue to show). No level change happens in the demo's
history, so no level-change review either. Deterministic; skipped once any plan of the
demo organisation exists."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from core.clock import local_datetime
from core.demo import DEMO_STEPS, DemoContext
from core.models import User
from patients.models import OPEN_STATUSES, Enrollment

from ..models import AsamDimension, PlanVersion, ServiceType, TreatmentPlan
from ..services.plans import (
    plan_goal_add,
    plan_intervention_add,
    plan_objective_add,
    plan_patient_sign_portal,
    plan_problem_add,
    plan_review_start,
    plan_sign,
    plan_start,
    plan_version_update,
)

# (dimension, problem, goal in the patient's words, objective, service, frequency)
PROBLEMS = [
    (
        AsamDimension.RELAPSE,
        "Cravings in the evenings and at weekends; two lapses in the month before admission.",
        "I want to get through a weekend without using.",
        "Name three triggers and a coping step for each, and use one when cravings come.",
        ServiceType.RELAPSE_PREVENTION,
        "2 groups a week",
    ),
    (
        AsamDimension.ENVIRONMENT,
        "Lives with a partner who drinks; few sober supports.",
        "I need people around me who are not using.",
        "Attend three mutual-help meetings a week and get a sponsor's number.",
        ServiceType.CASE_MANAGEMENT,
        "weekly",
    ),
    (
        AsamDimension.EMOTIONAL,
        "Anxiety and poor sleep since stopping use.",
        "I want to sleep and not feel on edge all day.",
        "Practise a breathing exercise daily and log sleep for four weeks.",
        ServiceType.INDIVIDUAL_COUNSELING,
        "1 session a week",
    ),
    (
        AsamDimension.READINESS,
        "Unsure the programme is needed; came at a family member's request.",
        "I want my family to trust me again.",
        "List what using has cost and what staying sober would give, with the counselor.",
        ServiceType.GROUP_CBT,
        "3 groups a week",
    ),
]


def _at(ctx: DemoContext, enrollment: Enrollment, days: int) -> datetime:
    """Mid-morning on the site's clock, ``days`` after admission, never after now."""
    day = enrollment.admission_date + timedelta(days=days)
    at = local_datetime(day, time(10, 30), enrollment.site.tz)
    return min(at, ctx.now - timedelta(hours=1))


def _write(
    author: User, enrollment: Enrollment, i: int, at: datetime, version: PlanVersion
) -> None:
    plan_version_update(
        actor=author,
        version=version,
        strengths="Shows up on time; a steady job; a sister who supports recovery.",
        preferences="Evening sessions; prefers a female counselor for individual sessions.",
        now=at,
    )
    created_on = at.astimezone(enrollment.site.tz).date()
    for k in range(1 + i % 2):
        dimension, problem, goal, objective, service, frequency = PROBLEMS[(i + k) % len(PROBLEMS)]
        p = plan_problem_add(
            actor=author, version=version, dimension=dimension, description=problem, now=at
        )
        g = plan_goal_add(actor=author, version=version, problem_id=p.pk, text=goal, now=at)
        o = plan_objective_add(
            actor=author,
            version=version,
            goal_id=g.pk,
            text=objective,
            target_date=created_on + timedelta(days=30 + 15 * k),
            now=at,
        )
        plan_intervention_add(
            actor=author,
            version=version,
            objective_id=o.pk,
            service_type=service,
            frequency=frequency,
            responsible=author,
            now=at,
        )


# Before the queue's step (48), which writes a plan waiting for a co-signature only when
# none waits, and before the notes, which name the objectives of the plan in force.
@DEMO_STEPS.register("history", order=45)
def seed(ctx: DemoContext) -> None:
    if TreatmentPlan.objects.filter(patient__organization=ctx.organization).exists():
        return
    enrollments = list(
        Enrollment.objects.filter(patient__organization=ctx.organization, status__in=OPEN_STATUSES)
        .select_related("site", "patient__user", "patient__primary_counselor")
        .order_by("patient_id")
    )
    draft_made = False
    for i, enrollment in enumerate(enrollments):
        patient = enrollment.patient
        is_patient1 = patient.user is not None and patient.user.username == "patient1"
        if i % 6 == 5 and not is_patient1:
            continue  # no plan yet: the chart offers "Start plan" (some initial plans overdue)
        author = patient.primary_counselor or ctx.staff["director"]
        if i % 5 == 0 and enrollment.site.code == "riverside":
            author = ctx.staff["director"]  # licensed: no countersignature needed
        started = _at(ctx, enrollment, 2)
        version = plan_start(actor=author, enrollment=enrollment, now=started)
        _write(author, enrollment, i, started, version)
        if i % 6 == 4 and not draft_made and not is_patient1:
            draft_made = True  # the one draft, left for its author to finish
            continue
        signed_at = _at(ctx, enrollment, 4)
        version = plan_sign(actor=author, version=version, now=signed_at)
        waits_for_patient = is_patient1 or i % 7 == 2
        days_in = (ctx.today - enrollment.admission_date).days
        # Most long stays had their monthly reviews (versions 2 and 3); a few did not,
        # and show as overdue.
        reviews = [d for d in (33, 63) if days_in > d + 3] if i % 4 != 1 else []
        for offset in reviews:
            if not waits_for_patient and patient.user is not None:
                plan_patient_sign_portal(
                    patient_user=patient.user, version=version, now=signed_at + timedelta(hours=1)
                )
            reviewed_at = _at(ctx, enrollment, offset)
            version = plan_review_start(actor=author, plan=version.plan, now=reviewed_at)
            plan_version_update(
                actor=author,
                version=version,
                strengths=version.strengths + f" Attending steadily (day {offset}).",
                preferences=version.preferences,
                now=reviewed_at,
            )
            version = plan_sign(actor=author, version=version, now=reviewed_at)
            signed_at = reviewed_at
        if not waits_for_patient and patient.user is not None:
            plan_patient_sign_portal(
                patient_user=patient.user, version=version, now=signed_at + timedelta(hours=2)
            )
    plans = TreatmentPlan.objects.filter(patient__organization=ctx.organization).count()
    ctx.log.append(f"records: {plans} treatment plans")
