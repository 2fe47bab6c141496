"""A patient's safety notes have a length limit: in the form and in the database."""

from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from core import limits
from patients.models import Patient
from patients.services.patient import patient_update
from tests.conftest import SCENARIO_NOW

from .test_views import demographics_data

pytestmark = pytest.mark.frozen(SCENARIO_NOW)


def test_a_200000_character_safety_note_is_refused_with_a_form_error(client, frontdesk, enrollment):
    patient = enrollment.patient
    client.force_login(frontdesk)
    response = client.post(
        reverse("patients:demographics", args=[patient.pk]),
        demographics_data(patient, safety_notes="s" * 200_000),
    )
    assert response.status_code == 200
    assert "safety_notes" in response.context["form"].errors
    assert "at most 10000 characters" in response.content.decode()
    patient.refresh_from_db()
    assert patient.safety_notes == ""


def test_the_database_refuses_an_over_long_safety_note(enrollment):
    patient = enrollment.patient
    with pytest.raises(IntegrityError), transaction.atomic():
        Patient.objects.filter(pk=patient.pk).update(safety_notes="s" * 10_001)
    patient.refresh_from_db()
    assert patient.safety_notes == ""


def test_a_discharge_note_longer_than_the_limit_is_refused(client, counselor, enrollment):
    client.force_login(counselor)
    response = client.post(
        reverse("patients:discharge", args=[enrollment.patient_id]),
        {
            "version": enrollment.version,
            "discharge_date": "2026-11-01",
            "discharge_type": "completed",
            "aftercare_plan": "Weekly OP",
            "note": "d" * 10_001,
        },
    )
    assert response.status_code == 200
    assert "at most 10000 characters" in response.content.decode()
    enrollment.refresh_from_db()
    assert enrollment.discharge_note == ""


def test_a_service_called_without_a_form_refuses_an_over_long_safety_note(counselor, enrollment):
    patient = enrollment.patient
    with pytest.raises(ValidationError) as caught:
        patient_update(actor=counselor, patient=patient, safety_notes="s" * 10_001)
    assert "at most 10000 characters" in caught.value.message_dict["safety_notes"][0]
    patient.refresh_from_db()
    assert patient.safety_notes == ""


def test_a_failure_message_is_clipped_to_its_limit(enrollment):
    from patients.models import ScheduledChange
    from patients.services import scheduled_changes

    change = ScheduledChange.objects.create(
        patient=enrollment.patient,
        enrollment=enrollment,
        kind=ScheduledChange.Kind.PHASE,
        effective_date=enrollment.admission_date,
        payload={},
        created_at=timezone.now(),
    )
    boom = ValidationError("x" * 50_000)
    with mock.patch.object(scheduled_changes, "_apply", side_effect=boom):
        assert scheduled_changes.scheduled_change_apply(change_id=change.pk) == "failed"
    change.refresh_from_db()
    assert len(change.failure) == limits.REASON and change.failure.endswith("…")
