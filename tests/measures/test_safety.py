"""The safety workflow of a PHQ-9 item 9 above 0: an urgent alert on the counselor's home
(and the on-duty clinician's while the counselor is away) that nobody can set aside, and the
follow-up page whose record clears it."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from core.models import AuditEvent, Organization, Site, StaffProfile, User
from measures.alerts import safety_followup_due
from measures.models import SafetyEvent
from measures.services.safety import safety_followup_record
from patients.models import Patient
from tests.alerts.queue import swept as alerts_for

from ._checkin_fixtures import WITH_ITEM9, WITHOUT_ITEM9, complete, make_sitting, phq9, sitting

__all__ = ["make_sitting", "phq9", "sitting"]

NOTE = "Called her at 3 pm; no plan or intent; safety plan reviewed; next session Monday."


@pytest.fixture
def event(sitting) -> SafetyEvent:
    complete(sitting, WITH_ITEM9)
    return SafetyEvent.objects.get(administration=sitting)


def _safety_alerts(user) -> list:
    # A fresh user: the staff profile is cached on the instance.
    fresh = User.objects.get(pk=user.pk)
    return [a for a in alerts_for(fresh) if a.kind == "safety_followup"]


def _away(user, today) -> None:
    StaffProfile.objects.filter(user=user).update(away_until=today + timedelta(days=3))


def _on_duty(user) -> None:
    StaffProfile.objects.filter(user=user).update(on_duty=True)


# --- the alert -------------------------------------------------------------------------


def test_the_counselor_sees_an_urgent_alert_naming_the_answer(counselor, event):
    (alert,) = _safety_alerts(counselor)
    assert alert.severity == "danger"
    assert alert.message.startswith("PHQ-9 item 9 answered 2 (thoughts of self-harm) on ")
    assert alert.message.endswith(": same-day safety follow-up")
    assert alert.action_url == reverse("measures:safety_followup", args=[event.pk])


def test_the_alert_gives_the_site_local_time(counselor, event):
    (alert,) = _safety_alerts(counselor)
    local = event.raised_at.astimezone(event.patient.site.tz)
    assert f"{local:%-I:%M}" in alert.message


def test_no_alert_without_a_safety_answer(counselor, sitting):
    complete(sitting, WITHOUT_ITEM9)
    assert _safety_alerts(counselor) == []


def test_a_colleague_counselor_does_not_see_it(other_counselor, event):
    assert _safety_alerts(other_counselor) == []


def test_an_on_duty_colleague_does_not_see_it_while_the_counselor_is_at_work(
    other_counselor, site, event
):
    Site.objects.filter(pk=site.pk).update(counselors_see_whole_site=True)
    _on_duty(other_counselor)
    assert _safety_alerts(other_counselor) == []


def test_an_on_duty_colleague_sees_it_while_the_counselor_is_away(
    counselor, other_counselor, site, event, today
):
    Site.objects.filter(pk=site.pk).update(counselors_see_whole_site=True)
    _away(counselor, today)
    _on_duty(other_counselor)
    (alert,) = _safety_alerts(other_counselor)
    assert alert.patient_id == event.patient_id


def test_an_off_duty_colleague_does_not_see_it_while_the_counselor_is_away(
    counselor, other_counselor, site, event, today
):
    Site.objects.filter(pk=site.pk).update(counselors_see_whole_site=True)
    _away(counselor, today)
    assert _safety_alerts(other_counselor) == []


def test_the_on_duty_nurse_sees_it_for_a_patient_without_a_counselor(nurse, event):
    Patient.objects.filter(pk=event.patient_id).update(primary_counselor=None)
    assert _safety_alerts(nurse) == []
    _on_duty(nurse)
    assert len(_safety_alerts(nurse)) == 1


def test_the_patient_never_sees_it(client, patient, event):
    assert alerts_for(patient.user) == []
    client.force_login(patient.user)
    body = client.get(reverse("home")).content.decode()
    assert "safety follow-up" not in body.lower()
    assert "item 9" not in body


def test_it_cannot_be_acknowledged(client, counselor, event):
    (alert,) = _safety_alerts(counselor)
    client.force_login(counselor)
    response = client.post(
        reverse("alerts:acknowledge", args=[alert.pk]), {"reason": "Will call tomorrow"}
    )
    assert response.status_code == 422
    alert.refresh_from_db()
    assert alert.state == "open" and alert.reason == ""
    body = client.get(reverse("home")).content.decode()
    assert "same-day safety follow-up" in body
    assert reverse("alerts:acknowledge", args=[alert.pk]) not in body  # no Set aside


def test_the_rule_runs_one_query_for_any_number_of_patients(
    make_patient, make_sitting, today, django_assert_num_queries
):
    patients = [make_patient(portal=True) for _ in range(3)]
    for p in patients:
        complete(make_sitting(p), WITH_ITEM9)
    everyone = Patient.objects.filter(pk__in=[p.pk for p in patients])
    with django_assert_num_queries(1):
        assert len(safety_followup_due(everyone, today)) == 3


# --- the follow-up page ----------------------------------------------------------------


def _page(event) -> str:
    return reverse("measures:safety_followup", args=[event.pk])


def test_the_page_shows_the_answers_phone_and_safety_notes(client, counselor, event):
    Patient.objects.filter(pk=event.patient_id).update(
        safety_notes="Sister Ana has the spare keys."
    )
    client.force_login(counselor)
    response = client.get(_page(event))
    body = response.content.decode()
    assert response.status_code == 200
    assert body.count('data-testid="safety-answer"') == 9
    assert "Sister Ana has the spare keys." in body
    assert 'data-testid="patient-phone"' in body


@pytest.mark.parametrize("who", ["counselor", "director", "nurse"])
def test_clinical_staff_who_see_the_patient_may_open_it(client, request, who, event):
    client.force_login(request.getfixturevalue(who))
    assert client.get(_page(event)).status_code == 200


def test_the_patient_is_refused(client, patient, event):
    client.force_login(patient.user)
    assert client.get(_page(event)).status_code == 404
    assert client.post(_page(event), {"action": "assessed_safe", "note": NOTE}).status_code == 404
    event.refresh_from_db()
    assert event.followup_at is None


def test_the_front_desk_is_refused(client, frontdesk, event):
    client.force_login(frontdesk)
    assert client.get(_page(event)).status_code == 403


def test_staff_of_another_organisation_get_404(client, make_staff, event):
    other_org = Organization.objects.create(name="Elsewhere", mrn_prefix="EL")
    other_site = Site.objects.create(
        organization=other_org, name="Far", code="far", time_zone="America/Chicago"
    )
    stranger = make_staff("stranger", "counselor", sites=[other_site])
    StaffProfile.objects.filter(user=stranger).update(organization=other_org)
    client.force_login(stranger)
    assert client.get(_page(event)).status_code == 404
    assert AuditEvent.objects.filter(
        action="measures.safety_event_view", outcome=AuditEvent.Outcome.DENIED
    ).exists()


def test_recording_the_follow_up_stores_it_and_clears_the_alert(client, counselor, event):
    client.force_login(counselor)
    response = client.post(_page(event), {"action": "assessed_safe", "note": NOTE})
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.followup_by == counselor
    assert event.followup_action == SafetyEvent.Action.ASSESSED_SAFE
    assert event.followup_note == NOTE
    assert event.followup_at is not None
    assert AuditEvent.objects.filter(
        action="measures.safety_followup_recorded", object_id=str(event.pk)
    ).exists()
    assert _safety_alerts(counselor) == []


def test_a_note_is_required(client, counselor, event):
    client.force_login(counselor)
    response = client.post(_page(event), {"action": "assessed_safe", "note": "  "})
    assert response.status_code == 422
    event.refresh_from_db()
    assert event.followup_at is None


def test_an_unknown_action_is_refused(client, counselor, event):
    client.force_login(counselor)
    response = client.post(_page(event), {"action": "shrugged", "note": NOTE})
    assert response.status_code == 422
    event.refresh_from_db()
    assert event.followup_at is None


def test_a_second_record_is_refused_and_the_first_kept(counselor, nurse, event):
    safety_followup_record(actor=counselor, event=event, action="safety_plan", note=NOTE)
    with pytest.raises(ValidationError):
        safety_followup_record(actor=nurse, event=event, action="emergency", note="Other.")
    event.refresh_from_db()
    assert (event.followup_by, event.followup_action) == (counselor, "safety_plan")


def test_posting_to_a_recorded_follow_up_shows_it_was_done(client, counselor, nurse, event):
    safety_followup_record(actor=nurse, event=event, action="safety_plan", note=NOTE)
    client.force_login(counselor)
    response = client.post(_page(event), {"action": "emergency", "note": "Late."})
    assert response.status_code == 422
    assert b"already recorded" in response.content
    event.refresh_from_db()
    assert event.followup_by == nurse


@pytest.mark.django_db(transaction=True)
def test_two_staff_recording_at_once_record_one(counselor, nurse, sitting):
    complete(sitting, WITH_ITEM9)
    event = SafetyEvent.objects.get(administration=sitting)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def record(actor) -> None:
        try:
            barrier.wait()
            safety_followup_record(actor=actor, event=event, action="assessed_safe", note=NOTE)
            outcomes.append("recorded")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=record, args=(u,)) for u in (counselor, nurse)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["recorded", "refused"]
    assert AuditEvent.objects.filter(action="measures.safety_followup_recorded").count() == 1


# --- the director's home ---------------------------------------------------------------


def test_the_directors_home_lists_open_follow_ups(client, director, event):
    client.force_login(director)
    body = client.get(reverse("home")).content.decode()
    assert 'data-testid="safety-open"' in body
    assert _page(event) in body


def test_the_directors_home_drops_it_once_recorded(client, director, counselor, event):
    safety_followup_record(actor=counselor, event=event, action="assessed_safe", note=NOTE)
    client.force_login(director)
    assert b'data-testid="safety-open"' not in client.get(reverse("home")).content
