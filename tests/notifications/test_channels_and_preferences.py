"""Quiet hours (site time zone, DST), preferences and consent, the STOP webhook and
the SMS backends."""

from __future__ import annotations

import base64
import json
import threading
from datetime import datetime, time, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEvent
from notifications import channels, outbox, sending
from notifications.models import (
    Channel,
    Kind,
    Notification,
    NotificationPreference,
    Status,
)
from notifications.timeutil import in_quiet_hours, quiet_hours_end
from tests.conftest import PASSWORD

UTC = ZoneInfo("UTC")
NY = ZoneInfo("America/New_York")

pytestmark = pytest.mark.django_db


def set_pref(user, **fields):
    defaults = {
        "channel": Channel.SMS,
        "quiet_start": time(21),
        "quiet_end": time(8),
        "updated_at": timezone.now(),
    }
    return NotificationPreference.objects.update_or_create(
        user=user, defaults={**defaults, **fields}
    )[0]


@pytest.fixture
def sms_patient(patient, sms_outbox):
    patient.phone = "+15185550142"
    patient.save(update_fields=["phone"])
    set_pref(patient.user, sms_consent_at=timezone.now())
    return patient


def plan_one(patient, kind, due_at, channels_=(Channel.SMS, Channel.IN_APP)):
    outbox.sync_object_reminders(
        kind=kind,
        object_type="test.Object",
        object_id=1,
        planned=[
            outbox.Planned(
                kind=kind,
                recipient=patient.user,
                patient=patient,
                due_at=due_at,
                channels=channels_,
                payload={"deadline": due_at.isoformat()},
            )
        ],
        now=due_at - timedelta(hours=1),
    )
    return {n.channel: n for n in Notification.objects.filter(kind=kind)}


# --- quiet hours ---------------------------------------------------------------


def test_quiet_hours_wrap_midnight_in_site_time():
    at = lambda h, m=0: datetime(2026, 6, 1, h, m, tzinfo=NY)  # noqa: E731
    assert in_quiet_hours(at(22), time(21), time(8), NY)
    assert in_quiet_hours(at(7, 59), time(21), time(8), NY)
    assert not in_quiet_hours(at(8), time(21), time(8), NY)
    assert not in_quiet_hours(at(12), time(21), time(8), NY)
    assert not in_quiet_hours(at(22), None, None, NY)


def test_quiet_hours_end_is_dst_correct_on_spring_forward():
    # 05:00 EST on 2026-03-08 is before the change; quiet hours end at 08:00 EDT = 12:00 UTC.
    early = datetime(2026, 3, 8, 10, 0, tzinfo=UTC)
    assert quiet_hours_end(early, time(21), time(8), NY) == datetime(2026, 3, 8, 12, 0, tzinfo=UTC)
    # In the fall, 08:00 EST = 13:00 UTC.
    fall = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)
    assert quiet_hours_end(fall, time(21), time(8), NY) == datetime(2026, 11, 1, 13, 0, tzinfo=UTC)


def test_check_in_notice_in_quiet_hours_waits_for_them_to_end(sms_patient):
    six_am = datetime(2026, 12, 3, 6, 0, tzinfo=NY)
    rows = plan_one(sms_patient, Kind.DRUG_TEST_NOTICE, six_am)
    assert rows[Channel.SMS].deliver_after == datetime(2026, 12, 3, 8, 0, tzinfo=NY)
    assert rows[Channel.IN_APP].deliver_after == six_am  # the portal is silent: no wait
    assert (
        sending.notification_send(notification_id=rows[Channel.SMS].pk, claim_token="a", now=six_am)
        == "not-claimed"
    )
    eight = datetime(2026, 12, 3, 8, 0, tzinfo=NY)
    assert (
        sending.notification_send(notification_id=rows[Channel.SMS].pk, claim_token="a", now=eight)
        == "sent"
    )
    assert len(sms_outbox := channels.sms_outbox) == 1 and "check in today" in sms_outbox[0]["body"]


def test_check_in_notice_caught_by_quiet_hours_at_send_time_is_deferred(sms_patient):
    noon = datetime(2026, 12, 3, 12, 0, tzinfo=NY)
    rows = plan_one(sms_patient, Kind.DRUG_TEST_NOTICE, noon)
    set_pref(
        sms_patient.user, quiet_start=time(11), quiet_end=time(13), sms_consent_at=timezone.now()
    )
    sms = rows[Channel.SMS]
    assert (
        sending.notification_send(notification_id=sms.pk, claim_token="a", now=noon)
        == "deferred: quiet hours"
    )
    sms.refresh_from_db()
    assert sms.status == Status.PENDING and sms.deliver_after == datetime(
        2026, 12, 3, 13, 0, tzinfo=NY
    )
    assert channels.sms_outbox == []


def test_other_reminders_are_not_sent_in_quiet_hours_but_stay_in_the_portal(sms_patient):
    eleven_pm = datetime(2026, 12, 3, 23, 0, tzinfo=NY)
    rows = plan_one(sms_patient, Kind.INJECTION_DUE, eleven_pm)
    assert (
        sending.notification_send(
            notification_id=rows[Channel.SMS].pk, claim_token="a", now=eleven_pm
        )
        == "skipped: quiet hours"
    )
    assert (
        sending.notification_send(
            notification_id=rows[Channel.IN_APP].pk, claim_token="b", now=eleven_pm
        )
        == "sent"
    )
    assert channels.sms_outbox == []


# --- preferences -------------------------------------------------------------------


def test_switched_off_kind_is_skipped_but_check_in_notice_is_not(sms_patient):
    set_pref(
        sms_patient.user,
        quiet_start=None,
        quiet_end=None,
        sms_consent_at=timezone.now(),
        disabled_kinds=[Kind.INJECTION_DUE, Kind.DRUG_TEST_NOTICE],
    )
    noon = datetime(2026, 12, 3, 12, 0, tzinfo=NY)
    injection = plan_one(sms_patient, Kind.INJECTION_DUE, noon)[Channel.SMS]
    notice = plan_one(sms_patient, Kind.DRUG_TEST_NOTICE, noon)[Channel.SMS]
    assert sending.notification_send(
        notification_id=injection.pk, claim_token="a", now=noon
    ).startswith("skipped")
    assert sending.notification_send(notification_id=notice.pk, claim_token="b", now=noon) == "sent"


def test_sms_without_consent_is_not_sent(patient, sms_outbox):
    patient.phone = "+15185550142"
    patient.save()
    set_pref(patient.user, quiet_start=None, quiet_end=None)
    noon = datetime(2026, 12, 3, 12, 0, tzinfo=NY)
    sms = plan_one(patient, Kind.DRUG_TEST_NOTICE, noon)[Channel.SMS]
    assert (
        sending.notification_send(notification_id=sms.pk, claim_token="a", now=noon)
        == "skipped: no SMS consent or opted out"
    )
    assert sms_outbox == []


def test_portal_preferences_record_sms_consent_with_date(client, patient):
    patient.phone = "+15185550142"  # texts need a mobile number on file
    patient.save(update_fields=["phone"])
    client.login(username=patient.user.username, password=PASSWORD)
    response = client.post(
        reverse("notifications:preferences"),
        {
            "channel": "sms",
            "enabled_kinds": ["session_reminder"],
            "quiet_start": "22:00",
            "quiet_end": "07:00",
            "sms_consent": "on",
        },
    )
    assert response.status_code == 302
    pref = NotificationPreference.objects.get(user=patient.user)
    assert pref.channel == Channel.SMS and pref.sms_consent_at is not None and pref.sms_allowed
    assert pref.quiet_start == time(22) and Kind.INJECTION_DUE in pref.disabled_kinds
    assert AuditEvent.objects.filter(
        action="notifications.preferences_updated", patient_id=patient.pk
    ).exists()


def test_portal_preferences_refuse_sms_without_consent(client, patient):
    client.login(username=patient.user.username, password=PASSWORD)
    response = client.post(
        reverse("notifications:preferences"), {"channel": "sms", "quiet_start": "", "quiet_end": ""}
    )
    assert response.status_code == 200 and "need your consent" in response.content.decode()
    assert not NotificationPreference.objects.filter(user=patient.user).exists()


def test_preferences_page_is_for_patients_only(client, counselor):
    client.login(username=counselor.username, password=PASSWORD)
    assert client.get(reverse("notifications:preferences")).status_code == 403


# --- STOP webhook: tests/notifications/test_sms_webhook.py ------------------------------


# --- SMS backends --------------------------------------------------------------------


class FakeTwilio(BaseHTTPRequestHandler):
    received: list = []
    status = 201

    def do_POST(self):
        length = int(self.headers["Content-Length"])
        FakeTwilio.received.append(
            {
                "auth": self.headers["Authorization"],
                "form": parse_qs(self.rfile.read(length).decode()),
                "path": self.path,
            }
        )
        self.send_response(FakeTwilio.status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps({"sid": "SM1"}).encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_twilio(settings):
    server = HTTPServer(("127.0.0.1", 0), FakeTwilio)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FakeTwilio.received, FakeTwilio.status = [], 201
    url = f"http://127.0.0.1:{server.server_port}/2010-04-01/Accounts/AC1/Messages.json"
    for name, value in {
        "STEPWISE_SMS_BACKEND": "http",
        "SMS_HTTP_URL": url,
        "SMS_HTTP_USER": "AC1",
        "SMS_HTTP_TOKEN": "tok",
        "SMS_FROM": "+15550000000",
    }.items():
        setattr(settings, name, value)
    yield FakeTwilio
    server.shutdown()


def test_http_backend_posts_a_twilio_compatible_request(sms_patient, fake_twilio):
    set_pref(sms_patient.user, quiet_start=None, quiet_end=None, sms_consent_at=timezone.now())
    noon = datetime(2026, 12, 3, 12, 0, tzinfo=NY)
    sms = plan_one(sms_patient, Kind.DRUG_TEST_NOTICE, noon)[Channel.SMS]
    assert sending.notification_send(notification_id=sms.pk, claim_token="a", now=noon) == "sent"
    (req,) = fake_twilio.received
    assert req["path"].endswith("/Accounts/AC1/Messages.json")
    assert req["form"]["To"] == ["+15185550142"] and req["form"]["From"] == ["+15550000000"]
    assert req["auth"] == "Basic " + base64.b64encode(b"AC1:tok").decode()


def test_http_backend_error_is_retried_later(sms_patient, fake_twilio):
    fake_twilio.status = 500
    set_pref(sms_patient.user, quiet_start=None, quiet_end=None, sms_consent_at=timezone.now())
    noon = datetime(2026, 12, 3, 12, 0, tzinfo=NY)
    sms = plan_one(sms_patient, Kind.DRUG_TEST_NOTICE, noon)[Channel.SMS]
    assert sending.notification_send(notification_id=sms.pk, claim_token="a", now=noon) == "retry"
    sms.refresh_from_db()
    assert (
        sms.status == Status.PENDING and "HTTP 500" in sms.last_error and sms.deliver_after > noon
    )


def test_file_backend_writes_one_json_line(settings, tmp_path):
    settings.STEPWISE_SMS_BACKEND = "file"
    settings.STEPWISE_SMS_FILE = tmp_path / "sms" / "outbox.jsonl"
    channels.Outbound().sms(to="+15550102233", body="Hello", reference="n1")
    assert json.loads((tmp_path / "sms" / "outbox.jsonl").read_text()) == {
        "to": "+15550102233",
        "body": "Hello",
        "reference": "n1",
    }
