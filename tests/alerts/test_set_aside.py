"""Acknowledge and snooze: a reason is required and audited, a snooze is at most 30 days,
and only staff who may see the patient can do either."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from alerts.models import Alert, AlertState
from alerts.services import alerts_sweep
from core.models import AuditEvent
from dashboard.panels import alerts_for
from tests.conftest import SCENARIO_NOW

pytestmark = [pytest.mark.frozen(SCENARIO_NOW), pytest.mark.django_db]


@pytest.fixture
def alert(patient, drug_test) -> Alert:
    drug_test(patient, results={"cocaine": "positive"})
    alerts_sweep()
    return Alert.objects.get(rule="drug_test_findings")


def _ack(client, user, alert, data):
    client.force_login(user)
    return client.post(reverse("alerts:acknowledge", args=[alert.pk]), data)


def _snooze(client, user, alert, data):
    client.force_login(user)
    return client.post(reverse("alerts:snooze", args=[alert.pk]), data)


def test_acknowledge_with_a_reason_leaves_the_queue_and_is_audited(client, counselor, alert):
    response = _ack(client, counselor, alert, {"reason": "Seen him today", "next": "/"})
    assert response.status_code == 302 and response.url == "/"
    alert.refresh_from_db()
    assert alert.state == AlertState.ACKNOWLEDGED and alert.reason == "Seen him today"
    assert alert.acted_by == counselor
    assert AuditEvent.objects.filter(action="alerts.acknowledged", actor=counselor).count() == 1
    assert alert not in alerts_for(counselor)


def test_acknowledge_without_a_reason_is_a_form_error(client, counselor, alert):
    response = _ack(client, counselor, alert, {"reason": "   "})
    assert response.status_code == 422
    alert.refresh_from_db()
    assert alert.state == AlertState.OPEN
    assert not AuditEvent.objects.filter(action="alerts.acknowledged").exists()


@pytest.mark.parametrize("reason", ["x" * 501, "bad\x00reason"])
def test_acknowledge_with_a_bad_reason_is_a_form_error(client, counselor, alert, reason):
    assert _ack(client, counselor, alert, {"reason": reason}).status_code == 422
    alert.refresh_from_db()
    assert alert.state == AlertState.OPEN


def test_an_offsite_next_is_not_followed(client, counselor, alert):
    response = _ack(client, counselor, alert, {"reason": "ok", "next": "https://evil.example/"})
    assert response.status_code == 302 and response.url == reverse("home")


def test_snooze_hides_it_until_the_day_then_it_is_back(client, counselor, alert, today):
    until = today + timedelta(days=3)
    response = _snooze(client, counselor, alert, {"reason": "Away", "until": until.isoformat()})
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.state == AlertState.SNOOZED and alert.snoozed_until is not None
    assert AuditEvent.objects.filter(action="alerts.snoozed", actor=counselor).count() == 1
    assert alert not in alerts_for(counselor)
    assert alert in alerts_for(counselor, now=alert.snoozed_until + timedelta(minutes=1))


@pytest.mark.parametrize("days", [31, 0, -2])
def test_snooze_out_of_range_is_a_form_error(client, counselor, alert, today, days):
    until = (today + timedelta(days=days)).isoformat()
    response = _snooze(client, counselor, alert, {"reason": "Later", "until": until})
    assert response.status_code == 422
    alert.refresh_from_db()
    assert alert.state == AlertState.OPEN


def test_snooze_without_a_reason_is_a_form_error(client, counselor, alert, today):
    until = (today + timedelta(days=2)).isoformat()
    assert _snooze(client, counselor, alert, {"until": until}).status_code == 422
    alert.refresh_from_db()
    assert alert.state == AlertState.OPEN


def test_a_colleague_who_sees_the_patient_may_acknowledge(client, nurse, alert):
    assert _ack(client, nurse, alert, {"reason": "Covering"}).status_code == 302
    alert.refresh_from_db()
    assert alert.state == AlertState.ACKNOWLEDGED and alert.acted_by == nurse


def test_an_outsider_gets_a_404_and_changes_nothing(client, outside_counselor, alert):
    assert _ack(client, outside_counselor, alert, {"reason": "Mine?"}).status_code == 404
    alert.refresh_from_db()
    assert alert.state == AlertState.OPEN
    assert AuditEvent.objects.filter(action="alerts.denied", actor=outside_counselor).exists()


def test_the_patient_gets_a_404(client, patient, alert):
    assert _ack(client, patient.user, alert, {"reason": "Me"}).status_code == 404


def test_acknowledged_alert_comes_back_open_when_its_cause_recurs(
    client, counselor, director, alert
):
    from drugtests.models import TestAlert
    from drugtests.services.results import alert_resolve

    _ack(client, counselor, alert, {"reason": "Seen"})
    alert_resolve(actor=director, alert=TestAlert.objects.get(), note="Discussed")
    alerts_sweep()
    alert.refresh_from_db()
    assert alert.state == AlertState.RESOLVED
    TestAlert.objects.update(resolved_at=None)  # the finding reopened
    alerts_sweep()
    alert.refresh_from_db()
    assert alert.state == AlertState.OPEN and alert.reason == ""
    assert Alert.objects.count() == Alert.objects.values("key").distinct().count()


def test_the_facilitator_sees_the_attendance_they_owe_for_a_patient_they_may_see(
    make_patient, other_counselor, site, track, week_sessions
):
    from core.models import Site, User
    from scheduling.models import Session

    # The colleague ran the group; the patient is the counselor's.
    Session.objects.filter(pk__in=[s.pk for s in week_sessions]).update(facilitator=other_counselor)
    make_patient(first="Robin", last="Owner", track=track)
    alerts_sweep()
    (owed,) = Alert.objects.filter(rule="attendance_not_taken")
    assert owed.owner == other_counselor
    # Not while the colleague may not see the counselor's patients...
    assert owed not in alerts_for(User.objects.get(pk=other_counselor.pk))
    # ...and in their queue once they may.
    Site.objects.filter(pk=site.pk).update(counselors_see_whole_site=True)
    assert owed in alerts_for(User.objects.get(pk=other_counselor.pk))
