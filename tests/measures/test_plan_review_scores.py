"""The draft plan review shows the standard measures completed since the last signed
version (Joint Commission CTS.03.01.09: use the results to revise the plan)."""

from datetime import timedelta

import pytest
from django.urls import reverse

from records.services.plans import plan_review_start, plan_sign, plan_start
from records.views.plans import review_scores
from tests.records._plans_fixtures import fill_draft, open_enrollment

from . import _chart_fixtures as fx

pytestmark = pytest.mark.django_db


@pytest.fixture
def review(patient, counselor, test_now, today):
    """A plan signed 15 days ago; PHQ-9 at 20 before it, then 15 and 8 since; a review
    draft started now."""
    fx.sit_phq9(patient, 20, at=test_now - timedelta(days=30), actor=patient.user)
    first = plan_start(
        actor=counselor, enrollment=open_enrollment(patient), now=test_now - timedelta(days=20)
    )
    fill_draft(counselor, first, today)
    plan_sign(actor=counselor, version=first, now=test_now - timedelta(days=15))
    fx.sit_phq9(patient, 15, at=test_now - timedelta(days=10), actor=patient.user)
    fx.sit_phq9(patient, 8, at=test_now - timedelta(days=2), actor=patient.user)
    return plan_review_start(actor=counselor, plan=first.plan)


def test_review_scores_count_only_sittings_since_the_last_signature(review):
    since, trends = review_scores(review)
    (phq9,) = trends
    assert len(phq9.sittings) == 2
    assert (phq9.first.total, phq9.latest.total) == (15, 8)
    assert phq9.change == "Improved (\u22127)"


def test_review_page_shows_the_scores_since_the_last_signature(client, counselor, review):
    client.force_login(counselor)
    for name in ("records:plan_version", "records:plan_edit"):
        text = client.get(reverse(name, args=[review.pk])).content.decode()
        assert 'data-testid="plan-review-scores"' in text, name
        assert "15 (Moderately severe) → 8 (Mild)" in text, name
        assert "Improved (\u22127)" in text, name


def test_a_signed_version_shows_no_review_scores(client, counselor, patient, test_now, today):
    version = plan_start(
        actor=counselor, enrollment=open_enrollment(patient), now=test_now - timedelta(days=5)
    )
    fill_draft(counselor, version, today)
    signed = plan_sign(actor=counselor, version=version)
    assert review_scores(signed) is None
    client.force_login(counselor)
    text = client.get(reverse("records:plan_version", args=[signed.pk])).content.decode()
    assert "plan-review-scores" not in text


def test_a_first_plan_shows_the_scores_since_admission(patient, counselor, test_now, today):
    fx.sit_phq9(patient, 12, at=test_now - timedelta(days=3), actor=patient.user)
    version = plan_start(actor=counselor, enrollment=open_enrollment(patient))
    since, trends = review_scores(version)
    assert since.date() <= open_enrollment(patient).admission_date
    assert [t.latest.total for t in trends] == [12]


@pytest.mark.parametrize("extra", [0, 5])
def test_review_scores_run_two_queries(review, patient, test_now, django_assert_num_queries, extra):
    for n in range(extra):
        fx.sit_phq9(patient, 10, at=test_now - timedelta(days=3 + n), actor=patient.user)
    from records.models import PlanVersion

    version = PlanVersion.objects.select_related(
        "plan__enrollment__site", "plan__patient__site"
    ).get(pk=review.pk)
    with django_assert_num_queries(2):
        _, trends = review_scores(version)
    assert len(trends[0].sittings) == 2 + extra
