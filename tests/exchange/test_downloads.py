"""The Bundle downloaded by the patient from the portal, and by staff from the chart at
the patient's request: who may, what they get, and the disclosure each one adds (a POST:
the page itself discloses nothing)."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from core.models import AuditEvent
from privacy.models import Disclosure

pytestmark = pytest.mark.django_db


def _with_a_session(patient, track, counselor, today):
    # Enough of a record to tell two patients' files apart (the full record's export is
    # test_bundle's).
    from datetime import timedelta

    from ._records import attend, make_session

    attend(make_session(patient.site, track, today - timedelta(days=1), counselor), patient)
    return patient


@pytest.fixture
def robin(make_patient, track, counselor, today):
    patient = make_patient(first="Robin", last="Owner", portal=True)
    return _with_a_session(patient, track, counselor, today)


@pytest.fixture
def kim(make_patient, track, counselor, today):
    patient = make_patient(first="Kim", last="Stranger", portal=True)
    return _with_a_session(patient, track, counselor, today)


def _bundle(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    assert response["Content-Disposition"].startswith('attachment; filename="health-record-')
    return json.loads(response.content)


def _patients(bundle):
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"]


def _mrn(resource):
    return resource["identifier"][0]["value"]


def test_the_patient_downloads_their_own_bundle_as_a_disclosure(client, robin, kim):
    from fhir.resources.R4B.bundle import Bundle

    client.force_login(robin.user)
    bundle = _bundle(client.post(reverse("exchange:my_bundle")))
    Bundle.model_validate(bundle)
    assert [_mrn(p) for p in _patients(bundle)] == [robin.mrn]
    assert kim.mrn not in json.dumps(bundle)
    disclosure = Disclosure.objects.get()
    assert (disclosure.patient, disclosure.to_patient, disclosure.disclosed_by) == (
        robin,
        True,
        robin.user,
    )
    assert disclosure.consent is None and disclosure.recipient == "Robin Owner (the patient)"
    assert disclosure.information_disclosed.startswith("The patient's record as a FHIR R4B Bundle")
    assert "1 sessions attended" in disclosure.information_disclosed
    rows = AuditEvent.objects.filter(patient_id=robin.pk, actor=robin.user)
    assert set(rows.values_list("action", flat=True)) >= {
        "patient.disclosed",
        "exchange.bundle_disclosed",
    }
    exported = rows.get(action="exchange.bundle_disclosed")
    assert exported.object_id == str(disclosure.pk) and exported.detail["by"] == "patient"
    # Each download is its own entry in the accounting.
    _bundle(client.post(reverse("exchange:my_bundle")))
    assert Disclosure.objects.filter(patient=robin).count() == 2


def test_another_patient_downloads_only_their_own(client, robin, kim):
    client.force_login(kim.user)
    bundle = _bundle(client.post(reverse("exchange:my_bundle")))
    assert [_mrn(p) for p in _patients(bundle)] == [kim.mrn]
    assert robin.mrn not in json.dumps(bundle)
    assert list(Disclosure.objects.values_list("patient", flat=True)) == [kim.pk]


def test_staff_cannot_use_the_portal_download(client, counselor, robin):
    client.force_login(counselor)
    assert client.post(reverse("exchange:my_bundle")).status_code == 403
    assert not Disclosure.objects.exists()


@pytest.mark.parametrize("who", ["counselor", "frontdesk", "director"])
def test_staff_who_may_see_the_chart_download_it_for_the_patient(
    client, robin, who, counselor, frontdesk, director
):
    user = {"counselor": counselor, "frontdesk": frontdesk, "director": director}[who]
    client.force_login(user)
    bundle = _bundle(client.post(reverse("exchange:patient_bundle", args=[robin.pk])))
    assert [_mrn(p) for p in _patients(bundle)] == [robin.mrn]
    disclosure = Disclosure.objects.get()
    assert (disclosure.patient, disclosure.to_patient, disclosure.disclosed_by) == (
        robin,
        True,
        user,
    )
    audit = AuditEvent.objects.get(action="exchange.bundle_disclosed")
    assert (audit.actor, audit.detail["by"]) == (user, "staff")


def test_staff_of_another_site_get_404_audited_and_nothing_disclosed(
    client, robin, make_staff, other_site
):
    outsider = make_staff("counselor_west", "counselor", sites=[other_site])
    client.force_login(outsider)
    assert client.post(reverse("exchange:patient_bundle", args=[robin.pk])).status_code == 404
    assert AuditEvent.objects.filter(
        actor=outsider, outcome="denied", action="exchange.bundle"
    ).exists()
    assert not Disclosure.objects.exists()


def test_a_role_that_makes_no_disclosures_is_refused(client, robin, nurse):
    client.force_login(nurse)
    assert client.post(reverse("exchange:patient_bundle", args=[robin.pk])).status_code == 403
    assert not Disclosure.objects.exists()


def test_a_patient_asking_for_anothers_chart_bundle_gets_404(client, robin, kim):
    client.force_login(kim.user)
    assert client.post(reverse("exchange:patient_bundle", args=[robin.pk])).status_code == 404
    assert AuditEvent.objects.filter(actor=kim.user, outcome="denied").exists()
    assert not Disclosure.objects.exists()


def test_the_disclosure_and_its_audit_row_fail_together(client, robin, monkeypatch):
    from core import audit

    record = audit.record

    def failing_export_row(**kwargs):
        if kwargs["action"] == "exchange.bundle_disclosed":
            raise RuntimeError("audit trail unavailable")
        return record(**kwargs)

    monkeypatch.setattr(audit, "record", failing_export_row)
    client.force_login(robin.user)
    with pytest.raises(RuntimeError):
        client.post(reverse("exchange:my_bundle"))
    assert not Disclosure.objects.exists()
    assert not AuditEvent.objects.filter(action="patient.disclosed").exists()


def test_the_chart_links_the_page_and_only_the_post_discloses(client, robin, counselor, nurse):
    url = reverse("exchange:patient_bundle", args=[robin.pk])
    chart = reverse("patients:chart", args=[robin.pk])
    client.force_login(counselor)
    assert url in client.get(chart).content.decode()
    page = client.get(url)
    assert page.status_code == 200 and 'data-testid="fhir-download"' in page.content.decode()
    assert not Disclosure.objects.exists()
    client.force_login(nurse)
    page = client.get(chart)
    assert page.status_code == 200 and url not in page.content.decode()


def test_the_portal_page_discloses_nothing_until_the_patient_downloads(client, robin):
    client.force_login(robin.user)
    page = client.get(reverse("exchange:my_bundle"))
    assert page.status_code == 200 and "Download my record" in page.content.decode()
    assert not Disclosure.objects.exists()
