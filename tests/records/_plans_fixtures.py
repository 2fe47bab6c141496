"""Shared fixtures of the treatment-plan tests: a draft with one of each part, the
same signed, and a way to make a clinician licensed."""

from __future__ import annotations

from datetime import timedelta

import pytest


def make_licensed(user, credentials: str = "LCSW"):
    from core.models import StaffProfile

    StaffProfile.objects.filter(user=user).update(licensed=True, credentials=credentials)
    user.refresh_from_db()
    return user


def open_enrollment(patient):
    return patient.enrollments.order_by("-admission_date", "-pk").first()


def fill_draft(actor, version, today, *, problems: int = 1, per: int = 1):
    """``problems`` problems, each with ``per`` goals, objectives and interventions."""
    from records.services.plans import (
        plan_goal_add,
        plan_intervention_add,
        plan_objective_add,
        plan_problem_add,
    )

    for n in range(problems):
        problem = plan_problem_add(
            actor=actor, version=version, dimension=1 + n % 6, description=f"Problem {n}"
        )
        for m in range(per):
            goal = plan_goal_add(
                actor=actor, version=version, problem_id=problem.pk, text=f"I want {n}.{m}"
            )
            objective = plan_objective_add(
                actor=actor,
                version=version,
                goal_id=goal.pk,
                text=f"Objective {n}.{m}",
                target_date=today + timedelta(days=30),
            )
            plan_intervention_add(
                actor=actor,
                version=version,
                objective_id=objective.pk,
                service_type="group_cbt",
                frequency="3 groups a week",
                responsible=actor,
            )
    return version


@pytest.fixture
def draft(patient, counselor, today):
    from records.services.plans import plan_start

    version = plan_start(actor=counselor, enrollment=open_enrollment(patient))
    return fill_draft(counselor, version, today)


@pytest.fixture
def signed(draft, counselor):
    from records.services.plans import plan_sign

    return plan_sign(actor=counselor, version=draft)
