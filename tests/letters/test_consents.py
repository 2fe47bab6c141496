"""Consents name the sections of a compliance letter they cover: ticked on the consent
form, checked by the service, refused by the database when unknown, and inferred from
the words of consents recorded before."""

import importlib
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from patients.models import Consent
from patients.services.consents import consent_create

inference = importlib.import_module("patients.migrations.0008_consent_sections")


def test_staff_tick_the_sections_on_the_consent_form(client, patient, frontdesk):
    client.force_login(frontdesk)
    url = reverse("patients:consent_add", args=[patient.pk])
    page = client.get(url).content.decode()
    for code in ("attendance", "drug_tests", "meetings", "status"):
        assert f'value="{code}"' in page
    data = {
        "recipient": "Probation Department",
        "purpose": "Conditions of probation",
        "information_disclosed": "Attendance and verified meetings",
        "sections": ["meetings", "attendance"],
        "signed_on": "2026-11-02",
    }
    assert client.post(url, {**data, "sections": ["attendance", "payroll"]}).status_code == 200
    assert not Consent.objects.exists()
    assert client.post(url, data).status_code == 302
    consent = Consent.objects.get()
    assert consent.sections == ["attendance", "meetings"]  # in the letter's order
    chart = client.get(reverse("patients:chart", args=[patient.pk])).content.decode()
    assert "Letters may report: Attendance and weekly hours, Verified mutual-help meetings" in chart


def test_the_service_refuses_an_unknown_section(patient, frontdesk):
    with pytest.raises(ValidationError, match="Unknown sections: payroll"):
        consent_create(
            actor=frontdesk,
            patient=patient,
            recipient="Employer",
            purpose="Return to work",
            information_disclosed="Attendance",
            sections=["attendance", "payroll"],
            signed_on=date(2026, 11, 2),
        )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the CHECK is PostgreSQL's")
def test_the_database_refuses_an_unknown_section(patient, frontdesk):
    consent = consent_create(
        actor=frontdesk,
        patient=patient,
        recipient="Employer",
        purpose="Return to work",
        information_disclosed="Attendance",
        sections=["attendance"],
        signed_on=date(2026, 11, 2),
    )
    for bad in (["attendance", "payroll"], "attendance", {"attendance": True}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Consent.objects.filter(pk=consent.pk).update(sections=bad)


@pytest.mark.parametrize(
    ("words", "sections"),
    [
        ("Attendance and drug test results", ["attendance", "drug_tests"]),
        (
            "Attendance, UDS results, 12-step meeting attendance",
            ["attendance", "drug_tests", "meetings"],
        ),
        ("Treatment status, phase and discharge summary", ["status"]),
        ("Urine toxicology screens only", ["drug_tests"]),
        ("Court-ordered treatment compliance", []),
        ("Diagnosis", []),
    ],
)
def test_sections_of_earlier_consents_are_inferred_from_their_words(words, sections):
    assert inference.infer_sections(words) == sections


def test_the_migration_fills_earlier_consents_and_says_so_in_the_trail(patient, frontdesk):
    from django.apps import apps

    from core.models import AuditEvent

    old = consent_create(
        actor=frontdesk,
        patient=patient,
        recipient="County Drug Court",
        purpose="Compliance",
        information_disclosed="Attendance and drug test results",
        signed_on=date(2026, 9, 1),
    )
    vague = consent_create(
        actor=frontdesk,
        patient=patient,
        recipient="Employer",
        purpose="Return to work",
        information_disclosed="Fitness to work",
        signed_on=date(2026, 9, 1),
    )
    assert old.sections == vague.sections == []
    inference.infer(apps, None)
    old.refresh_from_db(), vague.refresh_from_db()
    assert (old.sections, vague.sections) == (["attendance", "drug_tests"], [])
    row = AuditEvent.objects.get(action="consent.sections_inferred")
    assert (row.object_id, row.patient_id) == (str(old.pk), patient.pk)
    assert row.detail["from"] == "information_disclosed"
