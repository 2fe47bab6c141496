from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from alerts.services import alerts_sweep
from patients.services.medication import medication_order_create, medication_order_set_injection_due
from tests.alerts.queue import swept as alerts_for
from tests.conftest import SCENARIO_NOW

# Written for the suite's scenario instant (tests/conftest.py).
pytestmark = pytest.mark.frozen(SCENARIO_NOW)


def _injections(alerts):
    # Other rules (e.g. no contact for 7 days) also fire for the fixture patient.
    return [a for a in alerts if a.kind == "injection_due"]


@pytest.fixture
def injection(patient, nurse):
    today = timezone.localdate()
    return medication_order_create(
        actor=nurse,
        patient=patient,
        medication="naltrexone_xr",
        dose="380 mg",
        frequency="monthly",
        prescriber="Dr. Adler",
        start_date=date(2026, 9, 1),
        next_injection_due=today + timedelta(days=2),
    )


def test_injection_due_within_three_days_is_in_the_counselors_queue(counselor, injection):
    alerts = _injections(alerts_for(counselor))
    assert [a.kind for a in alerts] == ["injection_due"]
    assert "injection due" in alerts[0].message


def test_alert_disappears_when_resolved(counselor, nurse, injection):
    medication_order_set_injection_due(
        actor=nurse, order=injection, next_injection_due=timezone.localdate() + timedelta(days=30)
    )
    assert _injections(alerts_for(counselor)) == []


def test_alert_is_not_in_another_counselors_queue(other_counselor, injection):
    assert alerts_for(other_counselor) == []


def test_staff_home_shows_the_alert_with_its_action(client, counselor, injection):
    alerts_sweep()
    client.force_login(counselor)
    page = client.get(reverse("home")).content.decode()
    assert "Alert queue" in page and "Open medications" in page
    assert "Dismiss" not in page and "Acknowledge" in page and "Snooze" in page


def test_medical_staff_see_injections_but_the_director_has_no_patient_queue(
    nurse, director, injection
):
    assert [a.kind for a in alerts_for(nurse)] == ["injection_due"]
    assert alerts_for(director) == []
