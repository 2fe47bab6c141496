"""Files are served only through views that check who may see the patient."""

from datetime import date

import pytest
from django.urls import reverse

from core.models import AuditEvent
from recovery.services.homework import homework_assign, homework_template_create
from recovery.services.meetings import meeting_log
from tests.recovery.conftest import NOW, NY, png_bytes, upload


@pytest.fixture
def sheet(patient):
    from datetime import datetime

    meeting = meeting_log(
        actor=patient.user,
        patient=patient,
        held_at=datetime(2026, 11, 20, 19, tzinfo=NY),
        fellowship="na",
        name="Clean and Serene",
        mode="online",
        sheet=upload(png_bytes(), "my-sheet.png"),
        now=NOW,
    )
    return meeting.sheet


def _assert_served(response):
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert 'filename="my-sheet.png"' in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == png_bytes()


def test_owner_downloads_their_file_in_the_portal(client, patient, sheet):
    client.force_login(patient.user)
    _assert_served(client.get(reverse("recovery:portal_file", args=[sheet.pk])))
    assert AuditEvent.objects.filter(action="recovery.file_download", outcome="ok").exists()


def test_counselor_downloads_the_file(client, counselor, sheet):
    client.force_login(counselor)
    _assert_served(client.get(reverse("recovery:file", args=[sheet.pk])))


def test_other_patient_gets_404(client, other_patient, sheet):
    client.force_login(other_patient.user)
    response = client.get(reverse("recovery:portal_file", args=[sheet.pk]))
    assert response.status_code == 404
    assert AuditEvent.objects.filter(action="recovery.file_download", outcome="denied").exists()


def test_patient_cannot_use_the_staff_file_url(client, other_patient, sheet):
    client.force_login(other_patient.user)
    assert client.get(reverse("recovery:file", args=[sheet.pk])).status_code == 404


def test_other_sites_staff_get_404(client, outside_counselor, sheet):
    client.force_login(outside_counselor)
    assert client.get(reverse("recovery:file", args=[sheet.pk])).status_code == 404


def test_colleague_without_the_patient_in_caseload_gets_404(client, other_counselor, sheet):
    client.force_login(other_counselor)
    assert client.get(reverse("recovery:file", args=[sheet.pk])).status_code == 404


def test_missing_file_is_the_same_404(client, counselor, sheet):
    client.force_login(counselor)
    assert client.get(reverse("recovery:file", args=[sheet.pk + 1000])).status_code == 404


@pytest.fixture
def worksheet_template(site, counselor):
    return homework_template_create(
        actor=counselor,
        site=site,
        title="Relapse prevention plan",
        instructions="Fill in the plan.",
        worksheet=upload(png_bytes(), "my-sheet.png"),
        now=NOW,
    )


def test_patient_given_the_homework_downloads_its_worksheet(
    client, counselor, patient, other_patient, worksheet_template
):
    homework_assign(
        actor=counselor,
        patient=patient,
        template=worksheet_template,
        due_date=date(2026, 12, 31),
        now=NOW,
    )
    url = reverse("recovery:portal_file", args=[worksheet_template.worksheet_id])
    client.force_login(patient.user)
    _assert_served(client.get(url))
    client.force_login(other_patient.user)
    assert client.get(url).status_code == 404


def test_worksheet_is_not_served_to_another_sites_staff(
    client, counselor, outside_counselor, worksheet_template
):
    url = reverse("recovery:file", args=[worksheet_template.worksheet_id])
    client.force_login(counselor)
    assert client.get(url).status_code == 200
    client.force_login(outside_counselor)
    assert client.get(url).status_code == 404
