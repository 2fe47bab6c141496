from datetime import date, timedelta

import pytest
from django.urls import reverse

from alerts.services import alerts_sweep
from drugtests.alerts import drug_test_findings
from drugtests.models import TestAlert
from drugtests.services.collection import for_cause_order
from drugtests.services.results import alert_resolve, selections_mark_missed
from patients.models import Patient
from patients.services.medication import medication_order_create
from tests.alerts.queue import swept as alerts_for

from .conftest import WED, queries

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 11)


def _kinds(alerts):
    return sorted(a.kind for a in alerts)


def _mine(counselor):
    return Patient.objects.filter(primary_counselor=counselor)


def test_fentanyl_positive_raises_one_overdose_risk_alert(counselor, patient, drug_test):
    drug_test(patient, results={"fentanyl": "positive"})
    alerts = drug_test_findings(_mine(counselor), TODAY)
    assert _kinds(alerts) == ["drugtest_opioid_positive"]
    risk = next(a for a in alerts if a.kind == "drugtest_opioid_positive")
    assert risk.severity == "danger"
    assert "naloxone" in risk.message and "safety plan" in risk.message
    assert "Fentanyl" in risk.message and "Nov 11" in risk.message
    assert risk.patient_name == "Robin Owner"


def test_cocaine_positive_is_unexpected_but_not_an_opioid_risk(counselor, patient, drug_test):
    drug_test(patient, results={"cocaine": "positive", "fentanyl": "negative"})
    alerts = drug_test_findings(_mine(counselor), TODAY)
    assert _kinds(alerts) == ["drugtest_unexpected_positive"]
    assert alerts[0].message == "Unexpected positive for Cocaine on Wed Nov 11"


def test_prescribed_buprenorphine_absent_is_an_alert(counselor, nurse, patient, drug_test):
    medication_order_create(
        actor=nurse,
        patient=patient,
        medication="buprenorphine_naloxone",
        dose="8 mg",
        frequency="daily",
        prescriber="Dr. Adler",
        start_date=date(2026, 9, 1),
    )
    drug_test(patient, results={"buprenorphine": "negative"})
    alerts = drug_test_findings(_mine(counselor), TODAY)
    assert _kinds(alerts) == ["drugtest_prescribed_absent"]
    assert "Prescribed Buprenorphine absent" in alerts[0].message
    assert alerts[0].severity == "warning"


def test_missed_test_is_an_alert(counselor, nurse, patient, policy):
    selection = for_cause_order(actor=nurse, patient=patient, reason="Late", now=WED)
    selections_mark_missed(now=selection.deadline + timedelta(minutes=1))
    alerts = drug_test_findings(_mine(counselor), TODAY)
    assert _kinds(alerts) == ["drugtest_missed"]
    assert alerts[0].message == "Missed drug test on Wed Nov 11"


def test_invalid_specimen_is_an_alert(counselor, patient, drug_test):
    drug_test(patient, validity="adulterated", temperature=False)
    alerts = drug_test_findings(_mine(counselor), TODAY)
    assert _kinds(alerts) == ["drugtest_invalid_specimen"]
    assert "Invalid specimen" in alerts[0].message


def test_action_links_to_the_drug_tests_page_where_it_is_resolved(
    client, counselor, director, patient, drug_test
):
    drug_test(patient, results={"cocaine": "positive"})
    [alert] = drug_test_findings(_mine(counselor), TODAY)
    assert alert.action_url == f"{reverse('drugtests:today')}?site={patient.site_id}"
    client.force_login(director)
    page = client.get(alert.action_url).content.decode()
    finding = TestAlert.objects.get()
    assert reverse("drugtests:resolve_alert", args=[finding.pk]) in page


def test_resolved_finding_disappears(counselor, director, patient, drug_test):
    drug_test(patient, results={"cocaine": "positive"})
    alert_resolve(actor=director, alert=TestAlert.objects.get(), note="Discussed")
    assert drug_test_findings(_mine(counselor), TODAY) == []


def test_key_names_the_finding_so_a_later_one_is_new(counselor, director, patient, drug_test):
    drug_test(patient, results={"cocaine": "positive"})
    [first] = drug_test_findings(_mine(counselor), TODAY)
    alert_resolve(actor=director, alert=TestAlert.objects.get(), note="Discussed")
    drug_test(patient, now=WED + timedelta(days=1), results={"cocaine": "positive"})
    [second] = drug_test_findings(_mine(counselor), TODAY)
    assert first.key != second.key and second.key.startswith("testalert:")


def test_finding_is_in_the_counselors_queue_only(
    counselor, other_counselor, outside_counselor, patient, drug_test
):
    drug_test(patient, results={"cocaine": "positive"})

    def drug(user):
        return [a.kind for a in alerts_for(user) if a.kind.startswith("drugtest_")]

    assert drug(counselor) == ["drugtest_unexpected_positive"]
    assert drug(other_counselor) == []
    assert drug(outside_counselor) == []


def test_rule_runs_one_query_whatever_the_number_of_findings(counselor, make_patient, drug_test):
    def run():
        return drug_test_findings(_mine(counselor), TODAY)

    first = make_patient(last="Small")
    drug_test(first, results={"fentanyl": "positive"})
    small = queries(run)
    for n in range(4):
        p = make_patient(last=f"Big{n}")
        drug_test(p, results={"fentanyl": "positive", "cocaine": "positive"})
    assert len(run()) == 1 + 4 * 2
    assert queries(run) == small == 1


def test_staff_home_lists_the_finding_with_its_action(client, counselor, patient, drug_test):
    drug_test(patient, results={"fentanyl": "positive"})
    alerts_sweep()
    client.force_login(counselor)
    page = client.get(reverse("home")).content.decode()
    assert "overdose risk" in page and "Open the drug-test alerts" in page
    assert f"{reverse('drugtests:today')}?site={patient.site_id}" in page
