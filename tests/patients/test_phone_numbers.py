"""A patient's numbers: checked, stored as E.164 in the site's country, text reminders
only with a number a text can reach, and old unreadable numbers kept for staff to fix."""

import importlib

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from core.models import Site
from patients.models import Patient
from patients.services.patient import patient_update
from tests.alerts.queue import swept as alerts_for
from tests.conftest import SCENARIO_NOW

from .test_views import demographics_data, intake_data

pytestmark = pytest.mark.frozen(SCENARIO_NOW)


def post_demographics(client, user, patient, **fields):
    client.force_login(user)
    return client.post(
        reverse("patients:demographics", args=[patient.pk]), demographics_data(patient, **fields)
    )


def test_call_me_maybe_is_refused_with_text_reminders_on(client, frontdesk, enrollment):
    patient = enrollment.patient
    response = post_demographics(
        client, frontdesk, patient, phone="call me maybe", preferred_contact="sms"
    )
    assert response.status_code == 200
    assert "area code" in str(response.context["form"].errors["phone"])
    patient.refresh_from_db()
    assert patient.phone == ""


def test_a_valid_us_number_is_stored_as_e164(client, frontdesk, enrollment):
    patient = enrollment.patient
    response = post_demographics(
        client, frontdesk, patient, phone="(518) 555-0142", preferred_contact="sms"
    )
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.phone == "+15185550142"


def test_the_emergency_contact_number_is_stored_as_e164(client, frontdesk, enrollment):
    patient = enrollment.patient
    post_demographics(
        client,
        frontdesk,
        patient,
        phone="518 555 0142",
        emergency_contact_name="Sam",
        emergency_contact_phone="213-555-0199",
    )
    patient.refresh_from_db()
    assert patient.emergency_contact_phone == "+12135550199"


def test_text_reminders_without_a_number_are_refused(client, frontdesk, enrollment):
    patient = enrollment.patient
    response = post_demographics(client, frontdesk, patient, phone="", preferred_contact="sms")
    assert response.status_code == 200
    assert "mobile number" in str(response.context["form"].errors["preferred_contact"])


def test_text_reminders_to_a_landline_are_refused(client, frontdesk, enrollment, site):
    site.country = "GB"
    site.save(update_fields=["country"])
    patient = enrollment.patient
    response = post_demographics(
        client, frontdesk, patient, phone="020 7946 0958", preferred_contact="sms"
    )
    assert "cannot receive text" in str(response.context["form"].errors["preferred_contact"])
    patient.refresh_from_db()
    assert patient.phone == ""


def test_no_number_is_fine_when_texts_are_not_chosen(client, frontdesk, enrollment):
    patient = enrollment.patient
    response = post_demographics(client, frontdesk, patient, phone="", preferred_contact="email")
    assert response.status_code == 302


def test_a_number_is_read_in_the_country_of_the_patients_site(client, frontdesk, enrollment, site):
    site.country = "GB"
    site.save(update_fields=["country"])
    patient = enrollment.patient
    post_demographics(client, frontdesk, patient, phone="020 7946 0958", preferred_contact="phone")
    patient.refresh_from_db()
    assert patient.phone == "+442079460958"


def test_intake_with_text_reminders_and_no_number_is_refused(client, frontdesk, site):
    client.force_login(frontdesk)
    data = intake_data(site, preferred_contact="sms")
    data.pop("phone", None)
    response = client.post(reverse("patients:intake"), data)
    assert response.status_code == 200
    assert "preferred_contact" in response.context["form"].errors
    assert not Patient.objects.exists()


def test_intake_stores_the_number_as_e164(client, frontdesk, site):
    client.force_login(frontdesk)
    client.post(reverse("patients:intake"), intake_data(site, phone="(518) 555-0142"))
    assert Patient.objects.get().phone == "+15185550142"


def test_the_service_refuses_an_invalid_number(frontdesk, enrollment):
    with pytest.raises(ValidationError) as exc:
        patient_update(actor=frontdesk, patient=enrollment.patient, phone="call me maybe")
    assert "phone" in exc.value.message_dict
    enrollment.patient.refresh_from_db()
    assert enrollment.patient.phone == ""


def test_the_chart_writes_the_number_nationally(client, frontdesk, enrollment):
    patient = enrollment.patient
    patient_update(actor=frontdesk, patient=patient, phone="+15185550142")
    client.force_login(frontdesk)
    page = client.get(reverse("patients:chart", args=[patient.pk])).content.decode()
    assert "(518) 555-0142" in page


# --- numbers stored before they were checked -----------------------------------------


def run_data_migration(app, name):
    module = importlib.import_module(f"{app}.migrations.{name}")

    class Editor:
        pass

    editor = Editor()
    editor.connection = connection
    module.forwards(apps, editor)


def test_migration_rewrites_readable_numbers_as_e164(enrollment, capsys):
    patient = enrollment.patient
    Patient.objects.filter(pk=patient.pk).update(phone="518-555-0142")
    run_data_migration("patients", "0004_phone_e164")
    patient.refresh_from_db()
    assert (patient.phone, patient.phone_legacy) == ("+15185550142", "")
    assert "1 numbers rewritten" in capsys.readouterr().out


def test_migration_keeps_an_unreadable_number_for_staff_and_reports_it(enrollment, capsys):
    patient = enrollment.patient
    Patient.objects.filter(pk=patient.pk).update(phone="call me maybe")
    run_data_migration("patients", "0004_phone_e164")
    patient.refresh_from_db()
    assert (patient.phone, patient.phone_legacy) == ("", "call me maybe")
    assert f"{patient.pk} (phone)" in capsys.readouterr().out


def test_migration_clears_an_unreadable_site_number_and_names_the_site(site, capsys):
    Site.objects.filter(pk=site.pk).update(phone="front desk")
    run_data_migration("core", "0006_phone_e164")
    site.refresh_from_db()
    assert site.phone == ""
    assert f"site {site.code}" in capsys.readouterr().out


def test_an_unreadable_number_is_flagged_on_the_chart(client, frontdesk, enrollment):
    patient = enrollment.patient
    Patient.objects.filter(pk=patient.pk).update(phone_legacy="call me maybe")
    client.force_login(frontdesk)
    page = client.get(reverse("patients:chart", args=[patient.pk])).content.decode()
    assert "Not a valid number" in page and "call me maybe" in page


def test_an_unreadable_number_is_in_the_counselors_alert_queue(counselor, enrollment):
    patient = enrollment.patient
    Patient.objects.filter(pk=patient.pk).update(phone_legacy="call me maybe")
    alerts = [a for a in alerts_for(counselor) if a.kind == "phone_unreadable"]
    assert [a.patient_id for a in alerts] == [patient.pk]


def test_the_form_shows_the_unreadable_number_until_it_is_corrected(client, frontdesk, enrollment):
    patient = enrollment.patient
    Patient.objects.filter(pk=patient.pk).update(phone_legacy="call me maybe")
    client.force_login(frontdesk)
    page = client.get(reverse("patients:demographics", args=[patient.pk])).content.decode()
    assert 'value="call me maybe"' in page
    patient.refresh_from_db()
    post_demographics(client, frontdesk, patient, phone="518-555-0142")
    patient.refresh_from_db()
    assert (patient.phone, patient.phone_legacy) == ("+15185550142", "")
