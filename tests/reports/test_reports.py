import csv
import io
from datetime import date

import pytest
from django.urls import reverse

from core.models import AuditEvent
from patients.reports import kaplan_meier
from patients.services.enrollment import enrollment_discharge
from tests.conftest import SCENARIO_NOW

# Written for the suite's scenario instant (tests/conftest.py).
pytestmark = pytest.mark.frozen(SCENARIO_NOW)

PERIOD = {"start": "2026-08-01", "end": "2026-11-20"}


def test_kaplan_meier_matches_a_hand_computed_curve():
    # 5 episodes: ended at 10, 20, 20; censored at 15 and 30.
    curve = kaplan_meier([(10, True), (15, False), (20, True), (20, True), (30, False)])
    assert [(d, round(s, 3)) for d, s, _, _ in curve] == [(0, 1.0), (10, 0.8), (20, 0.267)]


def test_kaplan_meier_with_no_events_stays_at_one():
    assert kaplan_meier([(5, False), (9, False)]) == [(0, 1.0, 2, 0)]


@pytest.fixture
def cohort(make_patient, counselor):
    patients = [make_patient(admitted=date(2026, 9, 1)) for _ in range(4)]
    for p, kind in zip(patients[:2], ["completed", "ama"], strict=True):
        enrollment_discharge(
            actor=counselor,
            enrollment=p.enrollments.get(),
            discharge_date=date(2026, 10, 1),
            discharge_type=kind,
            aftercare_plan="Outpatient counseling weekly",
        )
    return patients


def test_census_counts_patients_in_care_each_week(client, director, cohort):
    client.force_login(director)
    response = client.get(reverse("reports:detail", args=["census"]), PERIOD)
    rows = {r[0]: r[-1] for r in response.context["result"].rows}
    assert rows["2026-09-07"] == 4
    assert rows["2026-10-05"] == 2


def test_discharges_by_type(client, director, cohort):
    client.force_login(director)
    response = client.get(reverse("reports:detail", args=["discharges"]), PERIOD)
    rows = {r[0]: r[1] for r in response.context["result"].rows}
    assert rows["Completed successfully"] == 1
    assert rows["Left against medical advice"] == 1


def test_csv_export_is_audited(client, director, cohort):
    client.force_login(director)
    response = client.get(
        reverse("reports:detail", args=["discharges"]), {**PERIOD, "format": "csv"}
    )
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")
    assert response["Content-Disposition"] == (
        'attachment; filename="stepwise-discharges-all-sites-2026-11-18.csv"'
    )
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert table[0] == ["discharge type", "episodes"]
    assert AuditEvent.objects.filter(action="report.exported", actor=director).exists()


def test_reports_are_for_the_director_only(client, counselor):
    client.force_login(counselor)
    assert client.get(reverse("reports:index")).status_code == 403


def test_end_before_start_is_a_form_error(client, director):
    client.force_login(director)
    response = client.get(
        reverse("reports:detail", args=["census"]), {"start": "2026-10-01", "end": "2026-09-01"}
    )
    assert response.status_code == 200
    assert "end date is before the start" in response.content.decode()


@pytest.mark.parametrize(
    "slug", ["census", "discharges", "retention", "attendance", "hours", "billing", "positivity"]
)
def test_report_query_count_does_not_grow_with_data(
    client, director, make_patient, django_assert_max_num_queries, slug
):
    client.force_login(director)
    url = reverse("reports:detail", args=[slug])
    for size in (3, 30):
        while director.staff.organization.sites.first().patients.count() < size:
            make_patient()
        with django_assert_max_num_queries(12):
            assert client.get(url, PERIOD).status_code == 200


# The census report counts in one aggregate query however many patients there are;
# the other nine are the page's own and do not depend on the data either, so an
# exact pin (not the shared maximum above) catches a per-week or per-patient query.
CENSUS_QUERIES = 10


@pytest.mark.parametrize("size", [3, 30])
def test_census_report_runs_a_fixed_number_of_queries(
    client, director, make_patient, django_assert_num_queries, size
):
    client.force_login(director)
    while director.staff.organization.sites.first().patients.count() < size:
        make_patient()
    with django_assert_num_queries(CENSUS_QUERIES):
        assert client.get(reverse("reports:detail", args=["census"]), PERIOD).status_code == 200
