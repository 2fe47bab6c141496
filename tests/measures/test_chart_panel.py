"""The chart's Scores card: latest score, band in words, reliable change since the first
sitting, flags, a small trend, and the links to enter a sitting or make one due."""

from datetime import timedelta

import pytest
from django.urls import reverse

from measures.models import Administration

from . import _chart_fixtures as fx

phq9_series = fx.phq9_series
sit_phq9 = fx.sit_phq9

pytestmark = pytest.mark.django_db

# The patient's sittings (instrument and entered_by joined) and the active instruments.
PANEL_QUERIES = 2


def _chart(client, user, patient):
    client.force_login(user)
    return client.get(reverse("patients:chart", args=[patient.pk]))


def test_chart_panel_shows_latest_score_band_and_reliable_improvement(
    client, counselor, patient, phq9_series
):
    phq9_series()
    html = _chart(client, counselor, patient).content.decode()
    assert 'data-testid="measures-chart-panel"' in html
    assert "Latest <strong>9</strong> · Mild" in html
    assert "Improved (\u22129)" in html


def test_chart_panel_says_worse_for_a_reliable_rise(client, counselor, patient, phq9_series):
    phq9_series((4, 10))
    html = _chart(client, counselor, patient).content.decode()
    assert "Worse (+6)" in html


def test_chart_panel_says_no_reliable_change_under_the_threshold(
    client, counselor, patient, phq9_series
):
    phq9_series((12, 8))
    html = _chart(client, counselor, patient).content.decode()
    assert "No reliable change" in html


def test_chart_panel_shows_the_item_9_flag(client, counselor, patient, test_now):
    sit_phq9(patient, 14, item9=2, at=test_now - timedelta(days=1), actor=patient.user)
    html = _chart(client, counselor, patient).content.decode()
    assert "badge text-bg-danger" in html
    flags = Administration.objects.get(patient=patient).flags
    assert flags and flags[0] in html


def test_chart_panel_draws_an_accessible_trend(client, counselor, patient, phq9_series):
    phq9_series()
    html = _chart(client, counselor, patient).content.decode()
    assert (
        'role="img" aria-labelledby="trend-phq9-s-title" aria-describedby="trend-phq9-s-desc"'
        in html
    )
    assert '<title id="trend-phq9-s-title">PHQ-9 from 18 to 9, improved</title>' in html


def test_chart_panel_links_to_scores_entry_and_make_due(client, counselor, patient, phq9_series):
    phq9_series()
    html = _chart(client, counselor, patient).content.decode()
    assert reverse("measures:patient_scores", args=[patient.pk]) in html
    assert reverse("measures:staff_entry", args=[patient.pk, "phq9"]) in html
    assert reverse("measures:staff_entry", args=[patient.pk, "gad7"]) in html
    assert reverse("measures:request", args=[patient.pk]) in html


def test_chart_panel_hidden_from_front_desk(client, frontdesk, patient, phq9_series):
    phq9_series()
    html = _chart(client, frontdesk, patient).content.decode()
    assert "measures-chart-panel" not in html


@pytest.mark.parametrize("count", [1, 12])
def test_chart_panel_query_count_is_fixed(
    rf, counselor, patient, phq9_series, django_assert_num_queries, count
):
    from measures.panels.chart import chart

    phq9_series(tuple(range(count, 0, -1)) if count > 1 else (5,))
    request = rf.get("/")
    request.user = counselor
    with django_assert_num_queries(PANEL_QUERIES):
        panel = chart(request, patient=patient)
    assert panel is not None
    [row] = [r for r in panel.context["rows"] if r["instrument"].code == "phq9"]
    assert len(row["trend"].sittings) == count
