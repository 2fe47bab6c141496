"""The data migration that mends stored patient dates outside 1900-2199 (#16)."""

import importlib
from datetime import date

import pytest
from django.apps import apps

from core import audit
from core.models import AuditEvent
from patients.models import Consent, Patient
from patients.services.consents import consent_create

pytestmark = pytest.mark.django_db
migration = importlib.import_module("patients.migrations.0006_mend_out_of_range_dates")


def test_a_year_one_date_of_birth_is_set_to_1900_and_audited(patient, capsys):
    Patient.objects.filter(pk=patient.pk).update(date_of_birth=date(1, 1, 1))
    migration.mend(apps, None)
    assert Patient.objects.get(pk=patient.pk).date_of_birth == date(1900, 1, 1)
    assert "date_of_birth 0001-01-01 -> 1900-01-01" in capsys.readouterr().out
    event = AuditEvent.objects.get(action="data.date_mended")
    assert event.patient_id == patient.pk and event.site_id == patient.site_id
    assert list(audit.verify_chain()) == []


def test_a_consent_expiring_in_9999_expires_on_its_signature_day(patient, frontdesk, today):
    consent = consent_create(
        actor=frontdesk,
        patient=patient,
        recipient="County Drug Court",
        purpose="Compliance",
        information_disclosed="Attendance",
        signed_on=today,
    )
    Consent.objects.filter(pk=consent.pk).update(expires_on=date(9999, 12, 31))
    migration.mend(apps, None)
    assert Consent.objects.get(pk=consent.pk).expires_on == today
