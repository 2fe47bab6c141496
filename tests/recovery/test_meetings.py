"""Logging and verifying meetings: portal, staff on the patient's behalf, bad input."""

from datetime import date, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEvent
from recovery.models import Attachment, Meeting, MeetingStatus, Sponsor, StepProgress
from recovery.services.meetings import meeting_log, meeting_review
from tests.conftest import SCENARIO_NOW
from tests.recovery.conftest import NOW, NY, png_bytes, upload

# Written for the suite's scenario instant (tests/conftest.py).
pytestmark = pytest.mark.frozen(SCENARIO_NOW)

URL = reverse("recovery:portal_meetings")


def _post_data(**overrides):
    data = {
        "held_at": (timezone.localtime(timezone.now(), NY) - timedelta(hours=2)).strftime(
            "%Y-%m-%dT%H:%M"
        ),
        "fellowship": "na",
        "fellowship_other": "",
        "name": "Tuesday Night Hope",
        "mode": "in_person",
        "place": "St. Mark's hall",
        "chair_name": "Pat S.",
        "notes": "",
    }
    data.update(overrides)
    return data


def _log(patient, actor, **kw):
    defaults = {
        "held_at": datetime(2026, 11, 20, 19, tzinfo=NY),
        "fellowship": "aa",
        "name": "Big Book study",
        "mode": "online",
        "now": NOW,
    }
    defaults.update(kw)
    return meeting_log(actor=actor, patient=patient, **defaults)


def test_patient_logs_a_meeting_with_a_photo_in_the_portal(client, patient):
    client.force_login(patient.user)
    data = _post_data(sheet=upload(png_bytes(), "sheet.png"))
    response = client.post(URL, data)
    assert response.status_code == 302
    meeting = Meeting.objects.get()
    assert (meeting.patient, meeting.status, meeting.logged_by) == (
        patient,
        MeetingStatus.PENDING,
        patient.user,
    )
    assert meeting.sheet.content_type == "image/png" and meeting.sheet.patient == patient
    assert AuditEvent.objects.filter(action="recovery.meeting_log", patient_id=patient.pk).exists()


def test_portal_form_time_is_the_sites_local_time(client, patient):
    client.force_login(patient.user)
    local = timezone.localtime(timezone.now(), NY).replace(second=0, microsecond=0)
    local -= timedelta(hours=1)
    client.post(URL, _post_data(held_at=local.strftime("%Y-%m-%dT%H:%M")))
    assert Meeting.objects.get().held_at == local


def test_meeting_in_the_future_is_refused_and_nothing_stored(client, patient):
    client.force_login(patient.user)
    future = timezone.localtime(timezone.now(), NY) + timedelta(days=1)
    response = client.post(URL, _post_data(held_at=future.strftime("%Y-%m-%dT%H:%M")))
    assert response.status_code == 200
    assert "cannot be in the future" in response.content.decode()
    assert not Meeting.objects.exists()


def test_meeting_before_admission_is_refused(client, patient):
    client.force_login(patient.user)
    response = client.post(URL, _post_data(held_at="2026-08-30T19:00"))
    assert "before admission" in response.content.decode()
    assert not Meeting.objects.exists()


def test_in_person_meeting_needs_a_place(client, patient):
    client.force_login(patient.user)
    response = client.post(URL, _post_data(place=""))
    assert "Say where the meeting was" in response.content.decode()
    assert not Meeting.objects.exists()


def test_other_fellowship_needs_its_name(patient):
    with pytest.raises(Exception, match="which fellowship"):
        _log(patient, patient.user, fellowship="other")
    meeting = _log(patient, patient.user, fellowship="other", fellowship_other="Refuge Recovery")
    assert meeting.fellowship_label == "Refuge Recovery"


def test_staff_logs_a_meeting_on_the_patients_behalf(client, patient, frontdesk):
    client.force_login(frontdesk)
    url = reverse("recovery:patient", args=[patient.pk])
    response = client.post(url, {**_post_data(), "action": "meeting"})
    assert response.status_code == 302
    meeting = Meeting.objects.get()
    assert (meeting.patient, meeting.logged_by, meeting.status) == (
        patient,
        frontdesk,
        MeetingStatus.PENDING,
    )


def test_staff_of_another_site_cannot_log_for_the_patient(client, patient, outside_counselor):
    client.force_login(outside_counselor)
    url = reverse("recovery:patient", args=[patient.pk])
    response = client.post(url, {**_post_data(), "action": "meeting"})
    assert response.status_code == 404
    assert not Meeting.objects.exists()


def test_counselor_verifies_a_meeting(client, patient, counselor):
    meeting = _log(patient, patient.user)
    client.force_login(counselor)
    response = client.post(
        reverse("recovery:meeting_review", args=[meeting.pk]), {"decision": "verify"}
    )
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert (meeting.status, meeting.reviewed_by) == (MeetingStatus.VERIFIED, counselor)
    assert AuditEvent.objects.filter(action="recovery.meeting_verify").count() == 1


def test_counselor_rejects_a_meeting_with_a_reason(client, patient, counselor):
    meeting = _log(patient, patient.user)
    client.force_login(counselor)
    client.post(
        reverse("recovery:meeting_review", args=[meeting.pk]),
        {"decision": "reject", "reason": "Sheet is unsigned"},
    )
    meeting.refresh_from_db()
    assert (meeting.status, meeting.rejection_reason) == (
        MeetingStatus.REJECTED,
        "Sheet is unsigned",
    )


def test_rejecting_without_a_reason_is_refused(client, patient, counselor):
    meeting = _log(patient, patient.user)
    client.force_login(counselor)
    response = client.post(
        reverse("recovery:meeting_review", args=[meeting.pk]),
        {"decision": "reject", "reason": ""},
        follow=True,
    )
    assert "reason" in response.content.decode()
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.PENDING


def test_patient_cannot_verify_their_own_meeting(client, patient):
    meeting = _log(patient, patient.user)
    client.force_login(patient.user)
    response = client.post(
        reverse("recovery:meeting_review", args=[meeting.pk]), {"decision": "verify"}
    )
    # Staff pages answer a patient with 404 (core.access): they learn nothing.
    assert response.status_code == 404
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.PENDING


def test_service_refuses_a_review_by_the_patient_even_if_called_directly(patient):
    meeting = _log(patient, patient.user)
    with pytest.raises(Exception, match="Only clinic staff"):
        meeting_review(actor=patient.user, meeting=meeting, verify=True, now=NOW)
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.PENDING


def test_counselor_of_another_site_gets_404_on_review(client, patient, outside_counselor):
    meeting = _log(patient, patient.user)
    client.force_login(outside_counselor)
    response = client.post(
        reverse("recovery:meeting_review", args=[meeting.pk]), {"decision": "verify"}
    )
    assert response.status_code == 404
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.PENDING


def test_a_reviewed_meeting_cannot_be_reviewed_again(patient, counselor, other_counselor):
    meeting = _log(patient, patient.user)
    meeting_review(actor=counselor, meeting=meeting, verify=True, now=NOW)
    with pytest.raises(Exception, match="already verified"):
        meeting_review(actor=counselor, meeting=meeting, verify=False, reason="x", now=NOW)
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.VERIFIED


def test_portal_page_shows_this_week_against_the_requirement(client, patient, requirement):
    now = timezone.now()
    for minutes, status in ((5, "verified"), (65, "pending")):
        meeting = _log(patient, patient.user, held_at=now - timedelta(minutes=minutes), now=now)
        if status == "verified":
            meeting.status, meeting.reviewed_at, meeting.reviewed_by = status, now, patient.user
            meeting.save()
    client.force_login(patient.user)
    page = client.get(URL).content.decode()
    assert "<strong>1</strong> of <strong>3</strong> meetings counted" in " ".join(page.split())
    assert "1 waiting for staff to check" in page


def test_rejected_meeting_shows_its_reason_to_the_patient(client, patient, counselor):
    meeting = _log(patient, patient.user, held_at=timezone.now() - timedelta(hours=1), now=None)
    meeting_review(actor=counselor, meeting=meeting, verify=False, reason="No signature")
    client.force_login(patient.user)
    assert "No signature" in client.get(URL).content.decode()


def test_counselor_records_sponsor_and_step(client, patient, counselor):
    client.force_login(counselor)
    url = reverse("recovery:patient", args=[patient.pk])
    client.post(
        url,
        {"action": "sponsor", "name": "Lee R.", "phone": "(518) 555-0111", "since": "2026-10-01"},
    )
    client.post(url, {"action": "sponsor", "name": "Jo K.", "phone": "", "since": "2026-11-01"})
    client.post(url, {"action": "step", "step": "4", "started_on": "2026-11-10"})
    current = Sponsor.objects.get(ended_on=None)
    assert current.name == "Jo K."
    assert Sponsor.objects.get(name="Lee R.").ended_on == date(2026, 10, 31)
    assert StepProgress.objects.get().step == 4


def test_sheet_upload_stays_unattached_when_meeting_is_refused(client, patient):
    client.force_login(patient.user)
    future = timezone.localtime(timezone.now(), NY) + timedelta(days=1)
    client.post(
        URL,
        _post_data(
            held_at=future.strftime("%Y-%m-%dT%H:%M"), sheet=upload(png_bytes(), "sheet.png")
        ),
    )
    assert not Attachment.objects.exists()


def test_nonexistent_local_time_in_the_spring_dst_gap_is_refused(client, patient):
    client.force_login(patient.user)
    # 02:30 on Mar 8, 2026 never happened in New York (clocks jumped from 02:00 to 03:00).
    response = client.post(URL, _post_data(held_at="2026-03-08T02:30"))
    assert response.status_code == 200
    assert "did not happen in America/New_York" in response.content.decode()
    assert not Meeting.objects.exists()


def test_the_same_meeting_cannot_be_logged_twice(client, patient):
    client.force_login(patient.user)
    data = _post_data()
    client.post(URL, data)
    response = client.post(URL, data)
    assert "already logged" in response.content.decode()
    assert Meeting.objects.count() == 1


def test_a_rejected_meeting_may_be_logged_again(patient, counselor):
    meeting = _log(patient, patient.user)
    meeting_review(actor=counselor, meeting=meeting, verify=False, reason="No sheet")
    again = _log(patient, patient.user, sheet=upload(png_bytes(), "signed.png"))
    assert again.status == MeetingStatus.PENDING and Meeting.objects.count() == 2


def test_director_sets_a_phase_requirement(client, director, site, phases):
    from recovery.models import MeetingRequirement

    client.force_login(director)
    prefix = f"r{site.pk}-{phases[2].pk}"
    response = client.post(
        reverse("recovery:requirements"),
        {"row": prefix, f"{prefix}-meetings_per_week": "2", f"{prefix}-fellowships": ["aa", "na"]},
    )
    assert response.status_code == 302
    req = MeetingRequirement.objects.get(site=site, phase=phases[2])
    assert (req.meetings_per_week, req.fellowships) == (2, ["aa", "na"])


def test_counselor_cannot_change_requirements(client, counselor, site):
    client.force_login(counselor)
    assert client.get(reverse("recovery:requirements")).status_code == 403


def test_service_refuses_a_review_by_staff_who_cannot_see_the_patient(patient, outside_counselor):
    meeting = _log(patient, patient.user)
    with pytest.raises(Exception, match="do not have access"):
        meeting_review(actor=outside_counselor, meeting=meeting, verify=True, now=NOW)
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.PENDING


@pytest.mark.parametrize("value", ["-1", "999999", "\U0001f600"])
def test_a_review_with_a_next_that_is_no_url_returns_to_the_queue(
    client, patient, counselor, value
):
    meeting = _log(patient, patient.user)
    client.force_login(counselor)
    response = client.post(
        reverse("recovery:meeting_review", args=[meeting.pk]),
        {"decision": "verify", "next": value},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("recovery:queue")
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.VERIFIED


def test_sponsor_number_is_stored_as_e164(client, patient, counselor):
    client.force_login(counselor)
    url = reverse("recovery:patient", args=[patient.pk])
    client.post(
        url, {"action": "sponsor", "name": "Lee R.", "phone": "518.555.0111", "since": "2026-10-01"}
    )
    assert Sponsor.objects.get().phone == "+15185550111"
    assert "(518) 555-0111" in client.get(url).content.decode()


def test_sponsor_number_that_is_not_a_number_is_refused(client, patient, counselor):
    client.force_login(counselor)
    url = reverse("recovery:patient", args=[patient.pk])
    response = client.post(
        url, {"action": "sponsor", "name": "Lee R.", "phone": "call me", "since": "2026-10-01"}
    )
    assert response.status_code == 200
    assert "area code" in response.content.decode()
    assert not Sponsor.objects.exists()
