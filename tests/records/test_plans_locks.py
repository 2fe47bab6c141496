"""A signed plan version cannot be changed: by any route (a clear message, the database
unchanged), by the services, or by SQL (the PostgreSQL trigger of migration 0002)."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from records.models import PlanGoal, PlanIntervention, PlanObjective, PlanProblem, PlanVersion

from . import _plans_fixtures as fx

draft, signed = fx.draft, fx.signed
pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple"


def _snapshot(version):
    rows = {"version": list(PlanVersion.objects.filter(pk=version.pk).values())}
    for model in (PlanProblem, PlanGoal, PlanObjective, PlanIntervention):
        rows[model.__name__] = list(model.objects.filter(version=version).values())
    return rows


@pytest.fixture
def author_client(client, counselor):
    client.force_login(counselor)
    return client


def _posts(version, today):
    problem = PlanProblem.objects.get(version=version)
    goal = PlanGoal.objects.get(version=version)
    objective = PlanObjective.objects.get(version=version)
    intervention = PlanIntervention.objects.get(version=version)
    pk = version.pk
    return [
        (reverse("records:plan_edit", args=[pk]), {"strengths": "changed", "preferences": "x"}),
        (
            reverse("records:plan_part_add", args=[pk, "problem"]),
            {"problem-dimension": "3", "problem-description": "New"},
        ),
        (
            reverse("records:plan_part_add", args=[pk, "goal"]),
            {"goal-parent": problem.pk, "goal-text": "New goal"},
        ),
        (
            reverse("records:plan_part_edit", args=[pk, "problem", problem.pk]),
            {"problem-dimension": "2", "problem-description": "Changed"},
        ),
        (reverse("records:plan_part_edit", args=[pk, "goal", goal.pk]), {"goal-text": "Changed"}),
        (
            reverse("records:plan_part_edit", args=[pk, "objective", objective.pk]),
            {
                "objective-text": "Changed",
                "objective-target_date": today.isoformat(),
                "objective-status": "met",
            },
        ),
        (
            reverse("records:plan_part_edit", args=[pk, "intervention", intervention.pk]),
            {"intervention-service_type": "crisis", "intervention-frequency": "daily"},
        ),
        (reverse("records:plan_part_remove", args=[pk, "problem", problem.pk]), {}),
        (reverse("records:plan_part_remove", args=[pk, "intervention", intervention.pk]), {}),
        (reverse("records:plan_sign", args=[pk]), {"confirm": "on"}),
    ]


def test_every_plan_route_refuses_to_change_a_signed_version(author_client, signed, today):
    before = _snapshot(signed)
    for url, data in _posts(signed, today):
        response = author_client.post(url, data, follow=True)
        assert response.status_code in (200, 404, 422), url
        if response.status_code != 404:
            assert b"is signed and can no longer be changed" in response.content, url
    assert _snapshot(signed) == before


def test_the_editor_of_a_signed_version_sends_to_the_read_only_page(author_client, signed):
    response = author_client.get(reverse("records:plan_edit", args=[signed.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("records:plan_version", args=[signed.pk])


def test_the_same_posts_change_a_draft(author_client, draft, today):
    url, data = _posts(draft, today)[0]
    author_client.post(url, data)
    draft.refresh_from_db()
    assert draft.strengths == "changed"


def _needs_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("the refusal triggers exist on PostgreSQL only (migration 0002)")


def test_sql_update_of_a_signed_plan_version_is_refused(signed):
    _needs_postgres()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE records_planversion SET strengths = 'forged' WHERE id = %s", [signed.pk]
        )
    signed.refresh_from_db()
    assert signed.strengths == ""


def test_sql_update_of_a_signed_versions_objective_is_refused(signed):
    _needs_postgres()
    objective = PlanObjective.objects.get(version=signed)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE records_planobjective SET text = 'forged' WHERE id = %s", [objective.pk]
        )
    objective.refresh_from_db()
    assert objective.text == "Objective 0.0"


def test_orm_save_of_a_signed_versions_part_is_refused(signed):
    _needs_postgres()
    goal = PlanGoal.objects.get(version=signed)
    goal.text = "forged"
    with pytest.raises(DatabaseError), transaction.atomic():
        goal.save()
    assert PlanGoal.objects.get(pk=goal.pk).text == "I want 0.0"


def test_sql_insert_of_a_part_into_a_signed_version_is_refused(signed):
    _needs_postgres()
    with pytest.raises(DatabaseError), transaction.atomic():
        PlanProblem.objects.create(version=signed, dimension=2, description="Slipped in")
    assert PlanProblem.objects.filter(version=signed).count() == 1


def test_sql_delete_of_a_signed_plan_version_is_refused(signed):
    _needs_postgres()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM records_planintervention WHERE version_id = %s", [signed.pk])
    assert PlanIntervention.objects.filter(version=signed).count() == 1


def test_the_admin_shows_a_plan_version_read_only(client, signed, director):
    from django.contrib import admin

    model_admin = admin.site._registry.get(PlanVersion)
    if model_admin is None:
        pytest.skip("plan versions are not in the admin")
    director.is_superuser = True
    director.save()
    client.force_login(director)
    before = _snapshot(signed)
    url = reverse("admin:records_planversion_change", args=[signed.pk])
    client.post(url, {"strengths": "forged", "preferences": "forged"})
    assert _snapshot(signed) == before
