from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import SCENARIO_NOW

# Written for the suite's scenario instant (tests/conftest.py).
pytestmark = pytest.mark.frozen(SCENARIO_NOW)


def test_portal_home_counts_days_in_the_program(client, make_patient):
    today = timezone.localdate(timezone.now(), timezone.get_default_timezone())
    patient = make_patient(admitted=today - timedelta(days=9), portal=True)
    client.force_login(patient.user)
    page = client.get(reverse("home")).content.decode()
    local_today = timezone.localdate(timezone.now(), patient.site.tz)
    expected = (local_today - patient.enrollments.get().admission_date).days + 1
    assert f"Day {expected}</strong> of your program" in page
