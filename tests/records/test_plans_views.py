"""The plan pages: who may open them, the audit row of every look, the chart and portal
panels, and the plan page's pinned query count."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from core.models import AuditEvent
from patients.models import Organization
from records.models import PlanVersion
from records.services.plans import plan_review_start, plan_sign, plan_start

from . import _plans_fixtures as fx

draft, signed = fx.draft, fx.signed
pytestmark = pytest.mark.django_db


@pytest.fixture
def other_org_director(db):
    from django.contrib.auth.models import Group

    from core.models import Site, StaffProfile, User
    from core.roles import ensure_role_groups, role_group_name

    ensure_role_groups()
    org = Organization.objects.create(name="Elsewhere", mrn_prefix="EL")
    Site.objects.create(organization=org, name="Far", code="far", time_zone="America/Chicago")
    user = User.objects.create_user(username="far_director", password="x" * 12)
    StaffProfile.objects.create(user=user, organization=org, role="director")
    user.groups.add(Group.objects.get(name=role_group_name("director")))
    return user


def _get(client, user, url):
    client.force_login(user)
    return client.get(url)


def test_owner_sees_the_plan_page(client, signed, counselor, patient):
    response = _get(client, counselor, reverse("records:plan", args=[patient.pk]))
    assert response.status_code == 200
    assert b"Problem 0" in response.content and b"Version 1" in response.content


def test_director_of_the_organisation_sees_the_plan_page(client, signed, director, patient):
    assert _get(client, director, reverse("records:plan", args=[patient.pk])).status_code == 200


def test_colleague_without_the_patient_gets_404(client, signed, other_counselor, patient):
    url = reverse("records:plan", args=[patient.pk])
    assert _get(client, other_counselor, url).status_code == 404


def test_outside_counselor_gets_404_and_an_audit_row(client, signed, outside_counselor, patient):
    response = _get(client, outside_counselor, reverse("records:plan", args=[patient.pk]))
    assert response.status_code == 404
    assert AuditEvent.objects.filter(
        actor=outside_counselor, outcome=AuditEvent.Outcome.DENIED, patient_id=patient.pk
    ).exists()


def test_another_organisations_director_gets_404(client, signed, other_org_director, patient):
    for url in (
        reverse("records:plan", args=[patient.pk]),
        reverse("records:plan_version", args=[signed.pk]),
    ):
        assert _get(client, other_org_director, url).status_code == 404


def test_outside_counselor_cannot_open_a_version(client, signed, outside_counselor):
    url = reverse("records:plan_version", args=[signed.pk])
    assert _get(client, outside_counselor, url).status_code == 404
    assert AuditEvent.objects.filter(
        actor=outside_counselor, action="records.plan.view", outcome=AuditEvent.Outcome.DENIED
    ).exists()


@pytest.mark.parametrize("role", ["frontdesk", "collector"])
def test_front_desk_and_collectors_see_no_plans(client, signed, patient, role, request):
    user = request.getfixturevalue(role)
    assert _get(client, user, reverse("records:plan", args=[patient.pk])).status_code == 403


def test_viewing_the_plan_page_writes_an_audit_row(client, signed, counselor, patient):
    _get(client, counselor, reverse("records:plan", args=[patient.pk]))
    row = AuditEvent.objects.filter(action="records.plan.view", actor=counselor).latest("pk")
    assert row.patient_id == patient.pk and row.outcome == AuditEvent.Outcome.OK


def test_viewing_a_version_writes_an_audit_row(client, signed, director):
    _get(client, director, reverse("records:plan_version", args=[signed.pk]))
    assert AuditEvent.objects.filter(
        action="records.plan.view", actor=director, object_id=str(signed.pk)
    ).exists()


def test_the_portal_page_view_writes_an_audit_row(client, signed, patient):
    _get(client, patient.user, reverse("records:portal_plan"))
    assert AuditEvent.objects.filter(
        action="records.plan.view", actor=patient.user, patient_id=patient.pk
    ).exists()


def test_start_plan_route_makes_a_draft(client, counselor, patient):
    client.force_login(counselor)
    response = client.post(reverse("records:plan_start", args=[patient.pk]))
    version = PlanVersion.objects.get(plan__patient=patient)
    assert response["Location"] == reverse("records:plan_edit", args=[version.pk])


def test_outside_counselor_cannot_start_a_plan_by_route(client, outside_counselor, patient):
    client.force_login(outside_counselor)
    response = client.post(reverse("records:plan_start", args=[patient.pk]))
    assert response.status_code == 404
    assert not PlanVersion.objects.filter(plan__patient=patient).exists()


def test_adding_a_problem_by_route(client, draft, counselor):
    client.force_login(counselor)
    url = reverse("records:plan_part_add", args=[draft.pk, "problem"])
    response = client.post(url, {"problem-dimension": "4", "problem-description": "Ambivalence"})
    assert response.status_code == 302
    assert draft.plan.versions.get().pk == draft.pk
    from records.models import PlanProblem

    assert PlanProblem.objects.filter(version=draft, dimension=4).exists()


def test_a_goal_under_another_patients_problem_is_refused(
    client, draft, counselor, other_patient, today
):
    from records.models import PlanGoal, PlanProblem

    other = fx.fill_draft(
        counselor, plan_start(actor=counselor, enrollment=fx.open_enrollment(other_patient)), today
    )
    foreign = PlanProblem.objects.get(version=other)
    client.force_login(counselor)
    url = reverse("records:plan_part_add", args=[draft.pk, "goal"])
    response = client.post(url, {"goal-parent": foreign.pk, "goal-text": "Sneaky"})
    assert response.status_code == 422
    assert b"Select a valid choice." in response.content
    assert not PlanGoal.objects.filter(text="Sneaky").exists()


def test_sign_route_signs_the_draft(client, draft, counselor):
    client.force_login(counselor)
    response = client.post(reverse("records:plan_sign", args=[draft.pk]), {"confirm": "on"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.signed_at is not None


def test_review_route_starts_a_new_version(client, signed, counselor):
    client.force_login(counselor)
    response = client.post(reverse("records:plan_review", args=[signed.plan_id]))
    assert response.status_code == 302
    assert PlanVersion.objects.filter(plan=signed.plan).count() == 2


def test_outside_counselor_cannot_start_a_review(client, signed, outside_counselor):
    client.force_login(outside_counselor)
    response = client.post(reverse("records:plan_review", args=[signed.plan_id]))
    assert response.status_code == 404
    assert PlanVersion.objects.filter(plan=signed.plan).count() == 1


def test_chart_shows_the_plan_and_its_review_date(client, signed, counselor, patient):
    response = _get(client, counselor, reverse("patients:chart", args=[patient.pk]))
    assert b'data-testid="plan-chart"' in response.content
    assert b"Review due in 30 days" in response.content


def test_chart_offers_start_plan_when_there_is_none(client, counselor, patient):
    response = _get(client, counselor, reverse("patients:chart", args=[patient.pk]))
    assert reverse("records:plan_start", args=[patient.pk]).encode() in response.content


def test_front_desk_chart_has_no_plan_panel(client, signed, frontdesk, patient):
    response = _get(client, frontdesk, reverse("patients:chart", args=[patient.pk]))
    assert response.status_code == 200
    assert b'data-testid="plan-chart"' not in response.content


def test_portal_home_asks_the_patient_to_sign(client, signed, patient):
    response = _get(client, patient.user, reverse("home"))
    assert b"Your treatment plan" in response.content
    assert reverse("records:portal_plan").encode() in response.content


# Session, user and profile, the patient (access rule), the audit row, the episode, the
# versions with their signatures and addenda, the four part tables, the due date's
# episode with its site's rules (one query since the queue work of #20): the same for 1
# version as for 5 with many parts.
QUERIES = 15


def _grow(counselor, version, today, n):
    """``n`` more signed versions of the plan, each with several parts."""
    for _ in range(n):
        review = plan_review_start(actor=counselor, plan=version.plan)
        fx.fill_draft(counselor, review, today, problems=2, per=2)
        version = plan_sign(actor=counselor, version=review)
    return version


def test_plan_page_query_count_is_fixed(
    client, counselor, patient, other_patient, today, django_assert_num_queries
):
    small = fx.fill_draft(
        counselor, plan_start(actor=counselor, enrollment=fx.open_enrollment(patient)), today
    )
    plan_sign(actor=counselor, version=small)
    big = fx.fill_draft(
        counselor,
        plan_start(actor=counselor, enrollment=fx.open_enrollment(other_patient)),
        today,
        problems=3,
        per=2,
    )
    _grow(counselor, plan_sign(actor=counselor, version=big), today, 4)
    assert PlanVersion.objects.filter(plan__patient=other_patient).count() == 5
    client.force_login(counselor)
    client.get(reverse("records:plan", args=[patient.pk]))  # warm the session's caches
    with django_assert_num_queries(QUERIES) as small_run:
        assert client.get(reverse("records:plan", args=[patient.pk])).status_code == 200
    with django_assert_num_queries(QUERIES) as big_run:
        assert client.get(reverse("records:plan", args=[other_patient.pk])).status_code == 200
    assert len(small_run.captured_queries) == len(big_run.captured_queries)


def test_overdue_review_shows_on_the_plan_page(client, signed, counselor, patient, test_now):
    import time_machine

    with time_machine.travel(test_now + timedelta(days=40), tick=False):
        response = _get(client, counselor, reverse("records:plan", args=[patient.pk]))
    assert b"Overdue since" in response.content


def test_portal_home_links_the_signed_plan_once_the_patient_signed(client, signed, patient):
    from records.services.plans import plan_patient_sign_portal

    plan_patient_sign_portal(patient_user=patient.user, version=signed)
    response = _get(client, patient.user, reverse("home"))
    assert b"Read your plan" in response.content and b"sign it" not in response.content


def test_part_form_of_a_signed_version_sends_to_the_read_only_page(client, signed, counselor):
    from records.models import PlanGoal

    goal = PlanGoal.objects.get(version=signed)
    url = reverse("records:plan_part_edit", args=[signed.pk, "goal", goal.pk])
    response = _get(client, counselor, url)
    assert response.status_code == 302
    assert response["Location"] == reverse("records:plan_version", args=[signed.pk])


def test_unknown_part_kind_is_404(client, draft, counselor):
    url = reverse("records:plan_part_add", args=[draft.pk, "diagnosis"])
    assert _get(client, counselor, url).status_code == 404


def test_version_page_shows_who_signed_and_the_countersignature_wait(client, signed, director):
    response = _get(client, director, reverse("records:plan_version", args=[signed.pk]))
    assert b"Author: <strong>Counselor</strong>" in response.content
    assert b"Waiting for a countersignature" in response.content


def test_the_editor_offers_an_add_form_for_every_kind(client, draft, counselor):
    response = _get(client, counselor, reverse("records:plan_edit", args=[draft.pk]))
    for kind in ("problem", "goal", "objective", "intervention"):
        url = reverse("records:plan_part_add", args=[draft.pk, kind])
        assert f'action="{url}"'.encode() in response.content, kind


def test_adding_an_intervention_from_the_editor(client, draft, counselor):
    from records.models import PlanIntervention, PlanObjective

    objective = PlanObjective.objects.get(version=draft)
    client.force_login(counselor)
    response = client.post(
        reverse("records:plan_part_add", args=[draft.pk, "intervention"]),
        {
            "intervention-parent": objective.pk,
            "intervention-service_type": "individual_counseling",
            "intervention-frequency": "weekly",
            "intervention-responsible": counselor.pk,
        },
    )
    assert response.status_code == 302
    assert PlanIntervention.objects.filter(version=draft, frequency="weekly").exists()
