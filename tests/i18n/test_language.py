"""The patient's language: chosen at intake, on the demographics form and in the portal's
picker (audited, back to the page it was on); the portal then speaks it, staff screens
stay English whatever the browser asks for."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.models import AuditEvent
from patients.models import Patient
from tests.conftest import PASSWORD, SCENARIO_NOW
from tests.patients.test_views import demographics_data, intake_data

pytestmark = [pytest.mark.frozen(SCENARIO_NOW), pytest.mark.django_db]

PICKER = reverse("patients:language")


def portal(client, patient):
    client.force_login(patient.user)
    return client


def test_the_picker_switches_the_patient_to_spanish_and_goes_back(client, patient):
    response = portal(client, patient).post(
        PICKER, {"language": "es", "next": reverse("scheduling:portal_schedule")}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("scheduling:portal_schedule")
    patient.refresh_from_db()
    assert patient.preferred_language == "es"


def test_the_picker_leaves_an_audit_row(client, patient):
    portal(client, patient).post(PICKER, {"language": "es"})
    event = AuditEvent.objects.filter(action="patient.language_set").get()
    assert event.patient_id == patient.pk
    assert event.detail == {"from": "en", "to": "es"}


def test_choosing_the_same_language_again_writes_nothing(client, patient):
    portal(client, patient).post(PICKER, {"language": "en"})
    assert not AuditEvent.objects.filter(action="patient.language_set").exists()


def test_an_unknown_language_changes_nothing(client, patient):
    response = portal(client, patient).post(PICKER, {"language": "fr"})
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.preferred_language == "en"


def test_an_outside_next_goes_home_instead(client, patient):
    response = portal(client, patient).post(
        PICKER, {"language": "es", "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("home")


def test_the_picker_changes_only_the_signed_in_patients_own_language(
    client, patient, other_patient
):
    # There is no patient id to forge: the portal takes the patient from the session.
    portal(client, other_patient).post(PICKER, {"language": "es", "patient": patient.pk})
    patient.refresh_from_db()
    other_patient.refresh_from_db()
    assert (patient.preferred_language, other_patient.preferred_language) == ("en", "es")


def test_staff_cannot_use_the_picker(client, counselor, patient):
    client.force_login(counselor)
    response = client.post(PICKER, {"language": "es"})
    assert response.status_code == 403
    patient.refresh_from_db()
    assert patient.preferred_language == "en"


def test_signed_out_the_picker_sends_to_the_login_page(client):
    response = client.post(PICKER, {"language": "es"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_spanish_speaking_patient_reads_the_portal_in_spanish(client, patient):
    Patient.objects.filter(pk=patient.pk).update(preferred_language="es")
    response = portal(client, patient).get(reverse("home"), follow=True)
    page = response.content.decode()
    assert response["Content-Language"] == "es"
    assert '<html lang="es">' in page
    assert "Hola, Robin" in page and "Salir" in page
    assert "Log out" not in page


def test_an_english_speaking_patient_reads_it_in_english_whatever_the_browser(client, patient):
    response = portal(client, patient).get(
        reverse("home"), follow=True, headers={"Accept-Language": "es"}
    )
    page = response.content.decode()
    assert '<html lang="en">' in page and "Hello, Robin" in page


def test_staff_stay_in_english_with_a_spanish_browser(client, counselor, patient):
    Patient.objects.filter(pk=patient.pk).update(preferred_language="es")
    client.force_login(counselor)
    response = client.get(
        reverse("patients:chart", args=[patient.pk]), headers={"Accept-Language": "es"}
    )
    assert response.status_code == 200
    assert response["Content-Language"] == "en"
    assert "Log out" in response.content.decode()


def test_the_login_page_follows_the_browser(client):
    page = client.get(reverse("login"), headers={"Accept-Language": "es"}).content.decode()
    assert "Entrar a Stepwise" in page


def test_a_form_error_comes_back_in_the_patients_language(client, patient):
    Patient.objects.filter(pk=patient.pk).update(preferred_language="es")
    response = portal(client, patient).post(
        reverse("recovery:portal_meetings"), {"name": "", "fellowship": "aa"}
    )
    page = response.content.decode()
    assert "Por favor corrija lo que está marcado abajo" in page
    assert "Este campo es obligatorio." in page  # Django's own messages, in Spanish too


def test_intake_sets_the_language(client, frontdesk, site):
    client.force_login(frontdesk)
    client.post(reverse("patients:intake"), intake_data(site, preferred_language="es"))
    assert Patient.objects.get().preferred_language == "es"


def test_intake_without_a_language_is_english(client, frontdesk, site):
    client.force_login(frontdesk)
    client.post(reverse("patients:intake"), intake_data(site))
    assert Patient.objects.get().preferred_language == "en"


def test_the_demographics_form_sets_the_language(client, frontdesk, patient):
    client.force_login(frontdesk)
    response = client.post(
        reverse("patients:demographics", args=[patient.pk]),
        demographics_data(patient, preferred_language="es", preferred_contact="portal"),
    )
    assert response.status_code == 302, response.context["form"].errors
    patient.refresh_from_db()
    assert patient.preferred_language == "es"


def test_the_demographics_form_without_the_field_keeps_the_language(client, frontdesk, patient):
    Patient.objects.filter(pk=patient.pk).update(preferred_language="es")
    patient.refresh_from_db()
    client.force_login(frontdesk)
    response = client.post(
        reverse("patients:demographics", args=[patient.pk]),
        demographics_data(patient, preferred_contact="portal", gender_identity="x"),
    )
    assert response.status_code == 302, response.context["form"].errors
    patient.refresh_from_db()
    assert patient.preferred_language == "es"


def test_a_spanish_speaking_patient_logs_in_to_the_portal_in_spanish(client, patient):
    Patient.objects.filter(pk=patient.pk).update(preferred_language="es")
    client.post(reverse("login"), {"username": patient.user.username, "password": PASSWORD})
    page = client.get(reverse("scheduling:portal_schedule")).content.decode()
    assert "Mi horario" in page and "My schedule" not in page
