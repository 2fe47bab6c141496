"""The caseload list, the chart and the census panel run a fixed number of queries
whatever the number of patients (and of a patient's records)."""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from patients.services.admission import enrollment_readmit
from patients.services.consents import consent_create
from patients.services.enrollment import enrollment_change_phase, enrollment_discharge
from patients.services.medication import medication_order_create
from tests.conftest import SCENARIO_NOW

# Written for the suite's scenario instant (tests/conftest.py).
pytestmark = pytest.mark.frozen(SCENARIO_NOW)

# A counselor's access rule reads their sites first (one small query per check, see
# patients/access.py); the caseload's filter finds its track and counselor choices in one.
CASELOAD_MAX = 17
CHART_MAX = 25  # +1: the upcoming scheduled changes; +7: the timeline (core.timeline)
HOME_MAX = 8


@pytest.fixture
def clinic(make_patient, track, day_track, phases, counselor, nurse, frontdesk):
    """``clinic(n)``: n patients across tracks and phases, with MAT, consents and history."""

    def build(n: int):
        patients = []
        for i in range(n):
            patient = make_patient(
                last=f"Q{i:03d}", track=[track, day_track][i % 2], phase=phases[i % 3]
            )
            enrollment = patient.enrollments.get()
            enrollment_change_phase(
                actor=counselor,
                enrollment=enrollment,
                phase=phases[(i + 1) % 3],
                effective_date=date(2026, 10, 1),
            )
            medication_order_create(
                actor=nurse,
                patient=patient,
                medication="buprenorphine_xr",
                dose="300 mg",
                frequency="monthly",
                prescriber="Dr. Adler",
                start_date=date(2026, 9, 1) + timedelta(days=i % 20),
            )
            consent_create(
                actor=frontdesk,
                patient=patient,
                recipient=f"Recipient {i}",
                purpose="Care coordination",
                information_disclosed="Attendance",
                signed_on=date(2026, 9, 1),
            )
            patients.append(patient)
        return patients

    return build


def heavy_chart_patient(make_patient, counselor, nurse, frontdesk, track, phases, size):
    """One patient with ``size`` past enrollments, medication orders and consents."""
    patient = make_patient(last="Heavy", track=track, phase=phases[0], admitted=date(2020, 1, 1))
    day = date(2020, 1, 1)
    for i in range(size):
        enrollment = patient.enrollments.get(status__in=["active", "on_hold"])
        enrollment_change_phase(
            actor=counselor, enrollment=enrollment, phase=phases[1 + i % 2], effective_date=day
        )
        enrollment_discharge(
            actor=counselor,
            enrollment=enrollment,
            discharge_date=day + timedelta(days=10),
            discharge_type="completed",
            aftercare_plan="OP",
        )
        day += timedelta(days=20)
        enrollment_readmit(
            actor=counselor, patient=patient, level="2.1", track=track, admission_date=day
        )
        medication_order_create(
            actor=nurse,
            patient=patient,
            medication="naltrexone_xr",
            dose="380 mg",
            frequency="monthly",
            prescriber="Dr. Adler",
            start_date=day,
            next_injection_due=day + timedelta(days=28),
        )
        consent_create(
            actor=frontdesk,
            patient=patient,
            recipient=f"Recipient {i}",
            purpose="Care coordination",
            information_disclosed="Attendance",
            signed_on=day,
        )
    return patient


@pytest.mark.parametrize("size", [5, 50])
@pytest.mark.parametrize("who", ["director", "counselor"])
def test_caseload_query_count_is_fixed(
    client, clinic, django_assert_max_num_queries, size, who, request
):
    clinic(size)
    client.force_login(request.getfixturevalue(who))
    with django_assert_max_num_queries(CASELOAD_MAX):
        response = client.get(reverse("patients:caseload"), {"status": "all"})
    assert response.context["page"].paginator.count == size
    assert len(response.context["page"].object_list) == min(size, 25)


@pytest.mark.parametrize("size", [5, 50])
def test_chart_query_count_is_fixed(
    client,
    clinic,
    make_patient,
    counselor,
    nurse,
    frontdesk,
    track,
    phases,
    django_assert_max_num_queries,
    size,
):
    clinic(size)
    patient = heavy_chart_patient(make_patient, counselor, nurse, frontdesk, track, phases, size)
    client.force_login(counselor)
    with django_assert_max_num_queries(CHART_MAX):
        response = client.get(reverse("patients:chart", args=[patient.pk]))
    assert len(response.context["past_enrollments"]) == size
    assert len(response.context["medications"]) == size


@pytest.mark.parametrize("size", [5, 50])
def test_staff_home_census_query_count_is_fixed(
    client, clinic, frontdesk, django_assert_max_num_queries, size
):
    clinic(size)
    client.force_login(frontdesk)
    with django_assert_max_num_queries(HOME_MAX):
        response = client.get("/")
    assert f'data-testid="census-active">{size}<' in response.content.decode()
