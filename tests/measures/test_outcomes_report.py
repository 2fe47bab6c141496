"""The director's outcomes report: per program, level and month of admission, the patients
with two or more sittings, mean at admission and latest, share reliably improved or worse;
director only; CSV; fixed queries."""

from datetime import timedelta

import pytest
from django.urls import reverse

from core.reporting import REPORTS, Filters
from tests.conftest import PASSWORD

from . import _chart_fixtures as fx

pytestmark = pytest.mark.django_db

bam_like = fx.bam_like


def _build(org, sites, start, end, today):
    return REPORTS.get("measures-outcomes").build(
        Filters(
            organization_id=org.pk,
            site_ids=[s.pk for s in sites],
            start=start,
            end=end,
            today=today,
        )
    )


@pytest.fixture
def admitted(today):
    return today - timedelta(days=60)


@pytest.fixture
def cohort(make_patient, admitted, test_now, counselor):
    """Three IOP patients admitted the same day: PHQ-9 18 -> 9 (improved), 8 -> 15 (worse),
    10 -> 8 (no reliable change); a fourth with a single sitting (not counted)."""
    made = []
    for first, latest in ((18, 9), (8, 15), (10, 8)):
        p = make_patient(admitted=admitted, portal=True)
        fx.sit_phq9(p, first, at=test_now - timedelta(days=50), actor=p.user)
        fx.sit_phq9(p, 5, at=test_now - timedelta(days=30), actor=p.user)
        fx.sit_phq9(p, latest, at=test_now - timedelta(days=2), actor=p.user)
        made.append(p)
    lone = make_patient(admitted=admitted, portal=True)
    fx.sit_phq9(lone, 27 - 3, at=test_now - timedelta(days=3), actor=lone.user)
    return made


def test_report_counts_patients_means_and_shares(org, site, cohort, admitted, today):
    result = _build(org, [site], admitted, admitted, today)
    assert result.rows == [
        [
            site.name,
            "IOP 2.1 · Intensive outpatient",
            admitted.strftime("%Y-%m"),
            "PHQ-9",
            3,
            round((18 + 8 + 10) / 3, 1),
            round((9 + 15 + 8) / 3, 1),
            33.3,
            33.3,
        ]
    ]
    assert [bar["label"] for bar in result.chart.bars] == ["PHQ-9"]


def test_report_leaves_out_admissions_outside_the_period(org, site, cohort, admitted, today):
    result = _build(org, [site], admitted + timedelta(days=1), today, today)
    assert result.rows == []


def test_report_leaves_out_other_sites(org, site, other_site, cohort, admitted, today):
    assert _build(org, [other_site], admitted, admitted, today).rows == []


def test_report_gives_subscales_of_an_instrument_that_has_them(
    org, site, make_patient, admitted, bam_like, test_now, today
):
    p = make_patient(admitted=admitted, portal=True)
    fx.sit(p, bam_like, {1: 3, 3: 3, 5: 1}, at=test_now - timedelta(days=40), actor=p.user)
    fx.sit(p, bam_like, {1: 1, 3: 1, 5: 3}, at=test_now - timedelta(days=4), actor=p.user)
    rows = _build(org, [site], admitted, admitted, today).rows
    assert [(r[3], r[5], r[6], r[7]) for r in rows] == [
        ("BAMX Protective", 1.0, 3.0, ""),
        ("BAMX Risk", 3.0, 1.0, ""),
        ("BAMX Use", 3.0, 1.0, ""),
    ]


def test_report_runs_the_same_queries_whatever_the_size(
    org, site, make_patient, admitted, test_now, today, django_assert_num_queries
):
    def add(n):
        for _ in range(n):
            p = make_patient(admitted=admitted, portal=True)
            fx.sit_phq9(p, 12, at=test_now - timedelta(days=20), actor=p.user)
            fx.sit_phq9(p, 6, at=test_now - timedelta(days=2), actor=p.user)

    add(1)
    with django_assert_num_queries(2):
        _build(org, [site], admitted, admitted, today)
    add(4)
    with django_assert_num_queries(2):
        result = _build(org, [site], admitted, admitted, today)
    assert result.rows[0][4] == 5


@pytest.mark.parametrize("who,status", [("director", 200), ("counselor", 403), ("nurse", 403)])
def test_report_page_is_the_directors(client, request, cohort, admitted, who, status):
    user = request.getfixturevalue(who)
    client.login(username=user.username, password=PASSWORD)
    url = reverse("reports:detail", args=["measures-outcomes"])
    response = client.get(url, {"start": admitted.isoformat(), "end": admitted.isoformat()})
    assert response.status_code == status


def test_report_csv(client, director, site, cohort, admitted):
    client.login(username=director.username, password=PASSWORD)
    url = reverse("reports:detail", args=["measures-outcomes"])
    params = {"start": admitted.isoformat(), "end": admitted.isoformat(), "format": "csv"}
    csv = client.get(url, params)
    assert csv.status_code == 200
    body = b"".join(csv.streaming_content if csv.streaming else [csv.content]).decode("utf-8-sig")
    assert "PHQ-9,3,12.0,10.7,33.3,33.3" in body


def test_report_never_shows_another_organisations_patients(org, site, cohort, admitted, today):
    from core.models import Organization

    other = Organization.objects.create(name="Elsewhere")
    assert _build(other, [site], admitted, admitted, today).rows == []
