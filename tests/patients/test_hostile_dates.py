"""Dates outside any sane range on the chart's forms and services: refused with a message
on the field, never an OverflowError or a stored year 1 or 9999 (#16)."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from patients.models import Consent, EnrollmentStatus
from patients.services.consents import consent_create
from patients.services.enrollment import enrollment_discharge
from patients.services.patient import patient_update

pytestmark = pytest.mark.django_db


def url(name, *args):
    return reverse(f"patients:{name}", args=args)


def test_discharge_dated_9999_12_31_is_refused_on_the_form(client, counselor, enrollment):
    client.force_login(counselor)
    response = client.post(
        url("discharge", enrollment.patient_id),
        {
            "version": enrollment.version,
            "discharge_date": "9999-12-31",
            "discharge_type": "completed",
            "aftercare_plan": "Weekly OP group",
        },
    )
    assert response.status_code == 200
    assert "discharge_date" in response.context["form"].errors
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.ACTIVE
    assert not enrollment.scheduled_changes.exists()


def test_discharge_service_refuses_year_9999(counselor, enrollment):
    with pytest.raises(ValidationError) as err:
        enrollment_discharge(
            actor=counselor,
            enrollment=enrollment,
            discharge_date=date(9999, 12, 31),
            discharge_type="completed",
            aftercare_plan="Weekly OP group",
        )
    assert "discharge_date" in err.value.message_dict


def _demographics(patient, **extra):
    return {
        "legal_first_name": patient.legal_first_name,
        "legal_last_name": patient.legal_last_name,
        "date_of_birth": patient.date_of_birth.isoformat(),
        "sex": patient.sex,
        "preferred_contact": patient.preferred_contact,
        "primary_substance": patient.primary_substance,
        "loaded_at": patient.updated_at.isoformat(),
        **extra,
    }


@pytest.mark.parametrize("born", ["0001-01-01", "1899-12-31"])
def test_date_of_birth_before_1900_is_refused_on_the_form(client, frontdesk, enrollment, born):
    patient = enrollment.patient
    client.force_login(frontdesk)
    response = client.post(
        url("demographics", patient.pk), _demographics(patient, date_of_birth=born)
    )
    assert "date_of_birth" in response.context["form"].errors
    patient.refresh_from_db()
    assert patient.date_of_birth == date(1990, 5, 17)


def test_patient_update_refuses_a_date_of_birth_of_year_1(frontdesk, enrollment):
    with pytest.raises(ValidationError) as err:
        patient_update(actor=frontdesk, patient=enrollment.patient, date_of_birth=date(1, 1, 1))
    assert "date_of_birth" in err.value.message_dict


def test_consent_signed_9999_expiring_year_1_is_refused_on_the_form(client, frontdesk, enrollment):
    client.force_login(frontdesk)
    response = client.post(
        url("consent_add", enrollment.patient_id),
        {
            "recipient": "County Drug Court",
            "purpose": "Compliance",
            "information_disclosed": "Attendance",
            "signed_on": "9999-12-31",
            "expires_on": "0001-01-01",
        },
    )
    errors = response.context["form"].errors
    assert "signed_on" in errors and "expires_on" in errors
    assert not Consent.objects.exists()


def test_consent_signed_after_today_is_refused_on_the_form(client, frontdesk, enrollment, today):
    client.force_login(frontdesk)
    response = client.post(
        url("consent_add", enrollment.patient_id),
        {
            "recipient": "County Drug Court",
            "purpose": "Compliance",
            "information_disclosed": "Attendance",
            "signed_on": date(today.year + 1, 1, 15).isoformat(),
        },
    )
    assert "signed_on" in response.context["form"].errors
    assert not Consent.objects.exists()


@pytest.mark.parametrize(
    ("signed", "expires", "field"),
    [
        (date(9999, 12, 31), date(1, 1, 1), "signed_on"),
        (date(2026, 9, 1), date(1, 1, 1), "expires_on"),
        (date(2026, 9, 1), date(9999, 12, 31), "expires_on"),
    ],
)
def test_consent_create_refuses_dates_out_of_range(frontdesk, enrollment, signed, expires, field):
    with pytest.raises(ValidationError) as err:
        consent_create(
            actor=frontdesk,
            patient=enrollment.patient,
            recipient="County Drug Court",
            purpose="Compliance",
            information_disclosed="Attendance",
            signed_on=signed,
            expires_on=expires,
        )
    assert field in err.value.message_dict
    assert not Consent.objects.exists()
