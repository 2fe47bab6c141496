"""The whole alert queue (every rule, as the sweep runs it; the home reads the rows) at
two caseload sizes."""

from datetime import datetime, time, timedelta

import pytest

from alerts.services import alerts_sweep
from dashboard.panels import alerts_for
from recovery.services.homework import homework_submit
from tests.conftest import SCENARIO_NOW

from .conftest import NY, WED, WEEK, queries

pytestmark = [pytest.mark.frozen(SCENARIO_NOW), pytest.mark.django_db]


def test_alert_queue_runs_a_fixed_number_of_queries(
    counselor, make_patient, requirement, assign, log_meeting, drug_test
):
    def seed(p):
        drug_test(p, results={"fentanyl": "positive"})
        hw = assign(p, WEEK + timedelta(days=1))
        assign(p, WEEK + timedelta(days=2))
        homework_submit(actor=counselor, assignment=hw, text="Plan", now=WED)
        log_meeting(p, datetime.combine(WEEK, time(12), tzinfo=NY), verify=False)

    seed(make_patient(last="Small"))
    alerts_sweep()
    small = queries(lambda: alerts_for(counselor))
    kinds_small = {a.kind for a in alerts_for(counselor)}
    for n in range(5):
        seed(make_patient(last=f"Big{n}"))
    alerts_sweep()
    alerts = alerts_for(counselor)
    assert queries(lambda: alerts_for(counselor)) == small
    assert {"drugtest_opioid_positive", "homework_overdue", "waiting_for_review"} <= kinds_small
    # One alert per positive test (it was two: unexpected positive and overdose risk).
    assert len([a for a in alerts if a.kind == "drugtest_opioid_positive"]) == 6
    assert not [a for a in alerts if a.kind == "drugtest_unexpected_positive"]
