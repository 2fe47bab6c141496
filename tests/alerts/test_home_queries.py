"""The home's alert queue reads rows in a fixed number of queries: pinned at 3 and at 30
patients."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from alerts.models import Alert
from dashboard.panels import alerts_for
from tests.conftest import SCENARIO_NOW

pytestmark = [pytest.mark.frozen(SCENARIO_NOW), pytest.mark.django_db]

# The staff profile, its sites (read once, core.access.staff_sites: the queue's site and
# the access rule both use them), the caseload's ids, the alerts with their patients: the
# same at any size.
QUERIES = 4


def _alerts(patients):
    now = timezone.now()
    Alert.objects.bulk_create(
        Alert(
            rule=rule,
            kind=rule,
            key=f"{rule}:{p.pk}",
            subject=str(p.pk),
            patient=p,
            severity=severity,
            message=f"{rule} of {p.pk}",
            action_url="/",
            action_label="Open",
            raised_at=now,
            updated_at=now,
        )
        for p in patients
        for rule, severity in (("no_contact", "warning"), ("drug_test_findings", "danger"))
    )


@pytest.mark.parametrize("size", [3, 30])
def test_queue_runs_a_fixed_number_of_queries(
    size, counselor, make_patient, django_assert_num_queries
):
    patients = [make_patient(last=f"P{n:02d}") for n in range(size)]
    _alerts(patients)
    from core.models import User

    fresh = User.objects.get(pk=counselor.pk)
    with django_assert_num_queries(QUERIES):
        alerts = alerts_for(fresh)
    assert len(alerts) == 2 * size
    # Most severe first, then by patient.
    assert [a.severity for a in alerts[:size]] == ["danger"] * size


def test_home_groups_the_alerts_by_patient(client, counselor, make_patient):
    a, b = make_patient(last="Able"), make_patient(last="Baker")
    _alerts([a, b])
    client.force_login(counselor)
    page = client.get(reverse("home")).content.decode()
    assert page.count('data-testid="alert-patient"') == 2
    assert page.count('data-testid="alert"') == 4
