"""Treatment-plan services: start, edit, sign, review (issue #17, "Treatment plans")."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from core.models import AuditEvent
from records.models import (
    PlanGoal,
    PlanIntervention,
    PlanObjective,
    PlanProblem,
    PlanVersion,
    PlanVersionKind,
    RecordStatus,
    Signature,
    SignerRole,
)
from records.services.plans import (
    plan_objective_add,
    plan_objective_update,
    plan_part_remove,
    plan_problem_add,
    plan_review_start,
    plan_sign,
    plan_start,
    plan_version_update,
)
from records.signing import verify_signature

from . import _plans_fixtures as fx
from ._plans_fixtures import fill_draft, make_licensed, open_enrollment

# The shared fixtures, made visible to pytest in this module.
draft, signed = fx.draft, fx.signed

pytestmark = pytest.mark.django_db


def test_plan_start_makes_an_initial_draft_at_the_episodes_level(patient, counselor):
    version = plan_start(actor=counselor, enrollment=open_enrollment(patient))
    assert (version.number, version.kind, version.status) == (1, "initial", "draft")
    assert version.level == open_enrollment(patient).level
    assert version.author == counselor


def test_plan_start_twice_is_refused(patient, counselor):
    plan_start(actor=counselor, enrollment=open_enrollment(patient))
    with pytest.raises(ValidationError):
        plan_start(actor=counselor, enrollment=open_enrollment(patient))
    assert PlanVersion.objects.filter(plan__patient=patient).count() == 1


def test_front_desk_cannot_start_a_plan(patient, frontdesk):
    with pytest.raises(ValidationError):
        plan_start(actor=frontdesk, enrollment=open_enrollment(patient))


def test_outside_counselor_cannot_start_a_plan(patient, outside_counselor):
    with pytest.raises(ValidationError):
        plan_start(actor=outside_counselor, enrollment=open_enrollment(patient))


def test_only_the_author_edits_a_draft(draft, director):
    with pytest.raises(ValidationError, match="author"):
        plan_version_update(actor=director, version=draft, strengths="x", preferences="y")
    draft.refresh_from_db()
    assert draft.strengths == ""


def test_signing_an_empty_plan_is_refused(patient, counselor):
    version = plan_start(actor=counselor, enrollment=open_enrollment(patient))
    plan_problem_add(actor=counselor, version=version, dimension=5, description="Cravings")
    with pytest.raises(ValidationError, match="at least one problem"):
        plan_sign(actor=counselor, version=version)
    version.refresh_from_db()
    assert version.signed_at is None


def test_signing_hashes_the_content_and_adds_the_author_signature(draft, counselor):
    version = plan_sign(actor=counselor, version=draft)
    version.refresh_from_db()
    assert version.status == RecordStatus.SIGNED and version.signed_at is not None
    signature = Signature.objects.get(plan_version=version)
    assert signature.role == SignerRole.AUTHOR and signature.signer == counselor
    assert signature.content_hash == version.content_hash
    assert verify_signature(signature)
    audited = AuditEvent.objects.filter(action="records.plan.signed", object_id=str(version.pk))
    assert audited.exists()


def test_an_unlicensed_author_needs_a_countersignature(draft, counselor):
    version = plan_sign(actor=counselor, version=draft)
    assert version.requires_cosign and version.awaiting_cosign


def test_a_licensed_author_needs_no_countersignature(patient, counselor, today):
    make_licensed(counselor, "LMHC")
    version = fill_draft(
        counselor, plan_start(actor=counselor, enrollment=open_enrollment(patient)), today
    )
    version = plan_sign(actor=counselor, version=version)
    assert not version.requires_cosign
    assert version.author_credentials == "LMHC"


def test_only_the_author_signs(draft, director):
    with pytest.raises(ValidationError):
        plan_sign(actor=director, version=draft)
    draft.refresh_from_db()
    assert draft.signed_at is None


def test_target_date_far_ahead_is_refused(draft, counselor, today):
    goal = PlanGoal.objects.filter(version=draft).first()
    with pytest.raises(ValidationError) as caught:
        plan_objective_add(
            actor=counselor,
            version=draft,
            goal_id=goal.pk,
            text="Later",
            target_date=today + timedelta(days=800),
        )
    assert "target_date" in caught.value.error_dict


def test_a_part_of_another_draft_cannot_be_a_parent(draft, counselor, other_patient, today):
    other = fill_draft(
        counselor, plan_start(actor=counselor, enrollment=open_enrollment(other_patient)), today
    )
    goal = PlanGoal.objects.filter(version=other).first()
    with pytest.raises(ValidationError, match="No such goal"):
        plan_objective_add(
            actor=counselor, version=draft, goal_id=goal.pk, text="x", target_date=today
        )


def test_removing_a_problem_removes_everything_under_it(draft, counselor):
    problem = PlanProblem.objects.get(version=draft)
    plan_part_remove(actor=counselor, part=problem)
    for model in (PlanProblem, PlanGoal, PlanObjective, PlanIntervention):
        assert not model.objects.filter(version=draft).exists()


def test_objective_status_changes_in_a_draft(draft, counselor, today):
    objective = PlanObjective.objects.get(version=draft)
    plan_objective_update(
        actor=counselor, objective=objective, text="Done", target_date=today, status="met"
    )
    objective.refresh_from_db()
    assert (objective.text, objective.status) == ("Done", "met")


def test_review_creates_a_new_version_and_keeps_the_old_one(signed, counselor):
    before = {
        m.__name__: list(m.objects.filter(version=signed).values())
        for m in (PlanProblem, PlanGoal, PlanObjective, PlanIntervention)
    }
    review = plan_review_start(actor=counselor, plan=signed.plan)
    assert (review.number, review.kind, review.status) == (2, PlanVersionKind.REVIEW, "draft")
    assert PlanObjective.objects.filter(version=review).count() == 1
    assert PlanIntervention.objects.filter(version=review).get().responsible == counselor
    after = {
        m.__name__: list(m.objects.filter(version=signed).values())
        for m in (PlanProblem, PlanGoal, PlanObjective, PlanIntervention)
    }
    assert after == before
    assert verify_signature(Signature.objects.get(plan_version=signed, role="author"))


def test_review_copies_objective_status(signed, counselor):
    review = plan_review_start(actor=counselor, plan=signed.plan)
    copied = PlanObjective.objects.get(version=review)
    original = PlanObjective.objects.get(version=signed)
    assert copied.pk != original.pk and copied.status == original.status


def test_editing_the_review_leaves_the_signed_version_verifiable(signed, counselor, today):
    review = plan_review_start(actor=counselor, plan=signed.plan)
    objective = PlanObjective.objects.get(version=review)
    plan_objective_update(
        actor=counselor, objective=objective, text="Revised", target_date=today, status="revised"
    )
    assert PlanObjective.objects.get(version=signed).text == "Objective 0.0"
    assert verify_signature(Signature.objects.get(plan_version=signed, role="author"))


def test_one_draft_at_a_time(signed, counselor):
    plan_review_start(actor=counselor, plan=signed.plan)
    with pytest.raises(ValidationError, match="already has a draft"):
        plan_review_start(actor=counselor, plan=signed.plan)
    assert PlanVersion.objects.filter(plan=signed.plan).count() == 2


def test_review_needs_a_signed_version(draft, counselor):
    with pytest.raises(ValidationError):
        plan_review_start(actor=counselor, plan=draft.plan)


def test_review_after_a_level_change_is_a_level_change_review(signed, counselor, patient, today):
    from patients.services.enrollment import enrollment_change_level

    enrollment_change_level(
        actor=counselor,
        enrollment=open_enrollment(patient),
        level="2.5",
        effective_date=today,
        reason="Stepped up",
    )
    review = plan_review_start(actor=counselor, plan=signed.plan)
    assert review.kind == PlanVersionKind.LEVEL_CHANGE and review.level == "2.5"
