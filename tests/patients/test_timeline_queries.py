"""The chart (with its timeline panel) and the full timeline page run the same number of
queries for a patient with a few entries as for one with hundreds of attendance rows,
tests, results, meetings and notes."""

from datetime import time

import pytest
from django.urls import reverse

from core.clock import local_datetime
from tests.patients._timeline_fixtures import build_history

# Measured on PostgreSQL. This chart ran 15 before the timeline; its panel adds the
# sources' 7: attendance, tests, results, their positive analytes, meetings, notes and
# plan versions. The audit row's chain lock and head read went with #20 (four fewer).
CHART_QUERIES = 18
# Session, user and staff profile, the access rule (the counselor's sites, then the
# patient), the sources' 7, the audit row (savepoint, insert, release; no chain lock
# since #20) and the month of the first admission.
TIMELINE_QUERIES = 14


@pytest.fixture
def heavy(make_patient, track, counselor, collector, site, today):
    def build(size):
        patient = make_patient(last="Heavy", track=track)
        noon = local_datetime(today, time(12), site.tz)
        build_history(patient, size, before=noon, counselor=counselor, collector=collector)
        return patient

    return build


@pytest.mark.parametrize("size", [3, 150])
def test_chart_query_count_is_the_same_for_a_long_history(
    client, counselor, heavy, django_assert_num_queries, size
):
    patient = heavy(size)
    client.force_login(counselor)
    client.get(reverse("patients:chart", args=[patient.pk]))  # warm per-process caches
    with django_assert_num_queries(CHART_QUERIES):
        response = client.get(reverse("patients:chart", args=[patient.pk]))
    assert len(response.context["timeline"]) == 15


@pytest.mark.parametrize("size", [3, 150])
def test_timeline_page_query_count_is_the_same_for_a_long_history(
    client, counselor, heavy, django_assert_num_queries, size
):
    patient = heavy(size)
    url = reverse("patients:timeline", args=[patient.pk])
    client.force_login(counselor)
    client.get(url)
    with django_assert_num_queries(TIMELINE_QUERIES):
        response = client.get(url)
    assert len(response.context["entries"]) >= 5
