"""Hostile input on the drug-test pages (#16): a NUL in the alert note, a collection time
of year 1 on either collection form or service, and a stored year-1 collection that made
the test's page answer 500 to everyone."""

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from drugtests.models import Selection, Specimen, TestAlert, TestingPolicy
from drugtests.services.collection import specimen_collect
from drugtests.services.random_draw import draw_run

pytestmark = pytest.mark.django_db

YEAR_ONE = datetime(1, 1, 1, tzinfo=UTC)


@pytest.fixture
def every_day(site):
    return TestingPolicy.objects.create(
        site=site,
        name="Every day",
        frequency=7,
        period="week",
        collection_days="0123456",
        panel=["buprenorphine", "fentanyl", "cocaine"],
    )


@pytest.fixture
def todays(patient, every_day, site, pinned_clock):
    draw_run(site=site, now=pinned_clock)
    return patient.test_selections.get()


@pytest.fixture
def alert(todays, pinned_clock):
    return TestAlert.objects.create(
        kind=TestAlert.Kind.MISSED,
        patient=todays.patient,
        site=todays.site,
        selection=todays,
        created_at=pinned_clock,
    )


COLLECT = {
    "specimen_type": "urine",
    "method": "poc",
    "observed": "on",
    "temperature_in_range": "yes",
    "validity": "valid",
    "chain_of_custody_id": "COC-100",
}


def test_alert_note_with_nul_is_refused_and_the_alert_stays_open(client, nurse, alert):
    client.force_login(nurse)
    url = reverse("drugtests:resolve_alert", args=[alert.pk])
    response = client.post(url, {"note": "called\x00patient"})
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.resolved_at is None


def test_alert_note_with_a_control_character_is_refused(client, nurse, alert):
    client.force_login(nurse)
    url = reverse("drugtests:resolve_alert", args=[alert.pk])
    client.post(url, {"note": "called\x1bpatient"})
    alert.refresh_from_db()
    assert alert.resolved_at is None


def test_alert_resolved_with_a_plain_note_keeps_the_note(client, nurse, alert):
    client.force_login(nurse)
    url = reverse("drugtests:resolve_alert", args=[alert.pk])
    client.post(url, {"note": "Called the patient;\nsafety plan reviewed."})
    alert.refresh_from_db()
    assert alert.resolved_at is not None
    assert alert.resolution_note == "Called the patient;\nsafety plan reviewed."


def test_collection_form_refuses_year_one(client, collector, todays):
    client.force_login(collector)
    url = reverse("drugtests:collect", args=[todays.pk])
    response = client.post(url, {**COLLECT, "collected_at": "0001-01-01T00:00"})
    assert response.status_code == 200
    assert "collected_at" in response.context["form"].errors
    assert not Specimen.objects.exists()


def test_walk_in_collection_form_refuses_year_one(client, collector, patient, every_day):
    client.force_login(collector)
    data = {
        **COLLECT,
        "patient": patient.pk,
        "for_cause_reason": "Slurred speech",
        "collected_at": "0001-01-01T00:00",
    }
    response = client.post(reverse("drugtests:collect_unselected"), data)
    assert response.status_code == 200
    assert "collected_at" in response.context["form"].errors
    assert not Specimen.objects.exists() and not Selection.objects.exists()


def _collect(collector, **extra):
    return specimen_collect(
        actor=collector,
        chain_of_custody_id="COC-1",
        method="poc",
        observed=True,
        temperature_in_range=True,
        validity="valid",
        **extra,
    )


def test_walk_in_collection_service_refuses_year_one(collector, patient, every_day):
    with pytest.raises(ValidationError) as err:
        _collect(
            collector, patient=patient, for_cause_reason="Slurred speech", collected_at=YEAR_ONE
        )
    assert "collected_at" in err.value.message_dict
    assert not Selection.objects.exists()


def test_collection_service_refuses_year_one_for_a_selected_test(collector, todays):
    with pytest.raises(ValidationError) as err:
        _collect(collector, selection=todays, collected_at=YEAR_ONE)
    assert "collected_at" in err.value.message_dict


def test_test_page_with_a_stored_year_one_collection_opens(client, counselor, collector, todays):
    specimen = _collect(collector, selection=todays)
    # As a row saved before the bounds existed would hold it.
    Specimen.objects.filter(pk=specimen.pk).update(collected_at=YEAR_ONE)
    client.force_login(counselor)
    response = client.get(reverse("drugtests:selection", args=[todays.pk]))
    assert response.status_code == 200
    assert "COC-1" in response.content.decode()
