"""The inbound SMS webhook: the provider's signature on every post, no secret in the URL,
and STOP/START found by number within the organisation that owns the number texted."""

from __future__ import annotations

import logging
import time
from datetime import datetime
from datetime import time as dtime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.models import Organization, Site, User
from notifications import sending
from notifications.inbound import hmac_signature, twilio_signature
from notifications.models import (
    Channel,
    InboundSms,
    Kind,
    NotificationPreference,
    Status,
)
from notifications.preferences import preference_update
from patients.models import Patient

from .test_channels_and_preferences import plan_one, set_pref

NY = ZoneInfo("America/New_York")
TOKEN = "twilio-auth-token-for-tests"
CLINIC_NUMBER = "+15185550100"
PATIENT_NUMBER = "+15185550142"
URL = "http://testserver/notifications/sms/inbound/"
# The STOP above, for one patient: its savepoint pair (2), the owning organisation (1),
# the patients on that number (1), the inbound log (1), the preference locked (1), its
# update (1), the pending texts skipped (1), the audit row with its savepoint pair and
# insert (3: no chain lock or previous row since #20).
PINNED_STOP_QUERIES = 9

pytestmark = pytest.mark.django_db


@pytest.fixture
def webhook(settings, org):
    settings.SMS_WEBHOOK_SECRET = TOKEN
    settings.SMS_WEBHOOK_SIGNATURE = "twilio"
    settings.SMS_WEBHOOK_URL = ""
    org.sms_number = CLINIC_NUMBER
    org.save(update_fields=["sms_number"])
    return org


@pytest.fixture
def texting_patient(patient):
    Patient.objects.filter(pk=patient.pk).update(phone=PATIENT_NUMBER)
    set_pref(patient.user, sms_consent_at=timezone.now())
    return patient


def form(body="STOP", sender=PATIENT_NUMBER, to=CLINIC_NUMBER):
    return {"From": sender, "To": to, "Body": body, "MessageSid": "SM123"}


def post_signed(client, data, *, url=URL, key=TOKEN, query="", **headers):
    path = reverse("notifications:sms_inbound") + (f"?{query}" if query else "")
    signed_url = url + (f"?{query}" if query else "")
    signature = twilio_signature(signed_url, {k: [v] for k, v in data.items()}, key)
    return client.post(path, data, HTTP_X_TWILIO_SIGNATURE=signature, **headers)


def opted_out(patient) -> bool:
    pref = NotificationPreference.objects.filter(user=patient.user).first()
    return pref is not None and pref.sms_opted_out_at is not None


def test_twilio_signature_matches_twilios_published_example():
    # The example in Twilio's request-validation documentation (auth token 12345).
    params = {
        "CallSid": ["CA1234567890ABCDE"],
        "Caller": ["+14158675310"],
        "Digits": ["1234"],
        "From": ["+14158675310"],
        "To": ["+18005551212"],
    }
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert twilio_signature(url, params, "12345") == "GvWf1cFY/Q7PnoempGyD5oXAezc="


def test_stop_with_a_valid_signature_opts_the_patient_out(client, webhook, texting_patient):
    response = post_signed(client, form("STOP"))
    assert response.status_code == 200 and response["Content-Type"] == "text/xml"
    assert opted_out(texting_patient)
    log = InboundSms.objects.get()
    assert (log.action, log.matched_users, log.from_number) == ("opt_out", 1, PATIENT_NUMBER)


def test_a_number_sent_in_national_form_still_matches(client, webhook, texting_patient):
    post_signed(client, form("STOP", sender="(518) 555-0142"))
    assert opted_out(texting_patient)


def test_a_bad_signature_is_refused_and_nothing_recorded(client, webhook, texting_patient):
    response = post_signed(client, form("STOP"), key="not-the-token")
    assert response.status_code == 403
    assert not InboundSms.objects.exists()
    assert not opted_out(texting_patient)


def test_a_missing_signature_is_refused_and_nothing_recorded(client, webhook, texting_patient):
    response = client.post(reverse("notifications:sms_inbound"), form("STOP"))
    assert response.status_code == 403
    assert not InboundSms.objects.exists()
    assert not opted_out(texting_patient)


def test_a_signature_over_other_fields_is_refused(client, webhook, texting_patient):
    signature = twilio_signature(URL, {k: [v] for k, v in form("HELP").items()}, TOKEN)
    response = client.post(
        reverse("notifications:sms_inbound"), form("STOP"), HTTP_X_TWILIO_SIGNATURE=signature
    )
    assert response.status_code == 403
    assert not opted_out(texting_patient)


def test_a_secret_in_the_url_is_refused_even_with_a_valid_signature(
    client, webhook, texting_patient, caplog
):
    with caplog.at_level(logging.WARNING):
        response = post_signed(client, form("STOP"), query=urlencode({"token": TOKEN}))
    assert response.status_code == 403
    assert not InboundSms.objects.exists()
    assert TOKEN not in caplog.text and "secret in its URL" in caplog.text


def test_the_webhook_is_off_without_a_secret(client, webhook, texting_patient, settings):
    settings.SMS_WEBHOOK_SECRET = ""
    assert post_signed(client, form("STOP"), key="").status_code == 403
    assert not opted_out(texting_patient)


def test_the_configured_public_url_is_the_one_checked(client, webhook, texting_patient, settings):
    settings.SMS_WEBHOOK_URL = "https://stepwise.example.org/notifications/sms/inbound/"
    assert post_signed(client, form("STOP")).status_code == 403  # signed for testserver
    response = post_signed(client, form("STOP"), url=settings.SMS_WEBHOOK_URL)
    assert response.status_code == 200 and opted_out(texting_patient)


def test_behind_a_tls_proxy_the_https_url_is_checked(client, webhook, texting_patient, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    response = post_signed(
        client,
        form("STOP"),
        url="https://testserver/notifications/sms/inbound/",
        HTTP_X_FORWARDED_PROTO="https",
        HTTP_HOST="testserver",  # the Host header the proxy passes on
    )
    assert response.status_code == 200 and opted_out(texting_patient)


def test_stop_reaches_only_the_organisation_that_owns_the_number(
    client, webhook, texting_patient, make_patient
):
    other_org = Organization.objects.create(name="Elsewhere Recovery", mrn_prefix="EL")
    elsewhere = Site.objects.create(
        organization=other_org, name="Elsewhere", code="else", time_zone="America/New_York"
    )
    stranger = make_patient(first="Lee", at_site=elsewhere, counselor_user=None, portal=True)
    Patient.objects.filter(pk=stranger.pk).update(phone=PATIENT_NUMBER)
    set_pref(stranger.user, sms_consent_at=timezone.now())
    post_signed(client, form("STOP"))
    assert opted_out(texting_patient)
    assert not opted_out(stranger)
    assert InboundSms.objects.get().matched_users == 1


def test_a_text_to_a_number_no_organisation_owns_changes_nothing(client, webhook, texting_patient):
    response = post_signed(client, form("STOP", to="+12135550100"))
    assert response.status_code == 200
    assert not opted_out(texting_patient)
    assert InboundSms.objects.get().matched_users == 0


def test_a_sites_number_identifies_its_organisation(client, webhook, texting_patient, site):
    Site.objects.filter(pk=site.pk).update(phone="+15185550111")
    post_signed(client, form("STOP", to="+15185550111"))
    assert opted_out(texting_patient)


def test_sms_from_serves_a_deployment_with_one_organisation(
    client, webhook, texting_patient, settings
):
    Organization.objects.update(sms_number="")
    settings.SMS_FROM = "+15185550177"
    post_signed(client, form("STOP", to="+15185550177"))
    assert opted_out(texting_patient)


def test_free_text_is_not_stored(client, webhook, texting_patient):
    post_signed(client, form("I relapsed last night"))
    log = InboundSms.objects.get()
    assert log.action == InboundSms.Action.NONE and log.keyword == ""
    assert not opted_out(texting_patient)


def test_start_after_stop_restores_texts(client, webhook, texting_patient):
    post_signed(client, form("STOP"))
    post_signed(client, form("START"))
    assert NotificationPreference.objects.get(user=texting_patient.user).sms_allowed


def stop_queries(client, patient_number=PATIENT_NUMBER):
    NotificationPreference.objects.update(sms_opted_out_at=None)
    with CaptureQueriesContext(connection) as queries:
        post_signed(client, form("STOP", sender=patient_number))
    return queries


def test_stop_matching_runs_a_fixed_number_of_queries(
    client, webhook, texting_patient, make_patient
):
    few = stop_queries(client)
    for n in range(15):
        other = make_patient(first=f"Many{n}", portal=True)
        Patient.objects.filter(pk=other.pk).update(phone=f"+1518555{1000 + n}")
    many = stop_queries(client)
    # Find the organisation (1), the patients on the number (1), the inbound log (1), then
    # for the one patient: its preference (get_or_create under a lock: 2 with the savepoint
    # pair), the update, its pending texts, and the audit row with its chain lock.
    assert len(many) == len(few)
    lookup = [q["sql"] for q in many if 'FROM "patients_patient"' in q["sql"]]
    assert len(lookup) == 1
    assert '"patients_patient"."phone" = ' in lookup[0]
    assert '"patients_patient"."organization_id" = ' in lookup[0]


def test_stop_matching_query_count_is_pinned(client, webhook, texting_patient):
    queries = stop_queries(client)
    assert len(queries) == PINNED_STOP_QUERIES, "\n".join(q["sql"] for q in queries)


# --- the generic HMAC scheme (a non-Twilio provider or a relay) ------------------------


@pytest.fixture
def hmac_webhook(webhook, settings):
    settings.SMS_WEBHOOK_SIGNATURE = "hmac"
    return webhook


def post_hmac(client, data, *, stamp=None, key=TOKEN):
    body = urlencode(data)
    stamp = str(int(time.time()) if stamp is None else stamp)
    return client.post(
        reverse("notifications:sms_inbound"),
        body,
        content_type="application/x-www-form-urlencoded",
        HTTP_X_STEPWISE_TIMESTAMP=stamp,
        HTTP_X_STEPWISE_SIGNATURE="sha256=" + hmac_signature(stamp, body.encode(), key),
    )


def test_hmac_scheme_accepts_a_signed_post(client, hmac_webhook, texting_patient):
    assert post_hmac(client, form("STOP")).status_code == 200
    assert opted_out(texting_patient)


def test_hmac_scheme_refuses_a_wrong_key(client, hmac_webhook, texting_patient):
    assert post_hmac(client, form("STOP"), key="wrong").status_code == 403
    assert not InboundSms.objects.exists()


def test_hmac_scheme_refuses_an_old_timestamp(client, hmac_webhook, texting_patient):
    response = post_hmac(client, form("STOP"), stamp=int(time.time()) - 3600)
    assert response.status_code == 403
    assert not opted_out(texting_patient)


# --- numbers a text cannot reach ------------------------------------------------------


def test_the_sender_skips_a_stored_number_a_text_cannot_reach(texting_patient, sms_outbox):
    Patient.objects.filter(pk=texting_patient.pk).update(phone="555-010-2233")
    set_pref(texting_patient.user, quiet_start=None, quiet_end=None)
    noon = datetime(2026, 12, 3, 12, 0, tzinfo=NY)
    sms = plan_one(texting_patient, Kind.DRUG_TEST_NOTICE, noon)[Channel.SMS]
    sending.notification_send(notification_id=sms.pk, claim_token="a", now=noon)
    sms.refresh_from_db()
    assert (sms.status, sms.last_error) == (Status.SKIPPED, "not a number texts can reach")
    assert sms_outbox == []


def test_texts_cannot_be_chosen_without_a_number_on_file(patient):
    with pytest.raises(ValidationError) as exc:
        preference_update(
            actor=patient.user,
            user=patient.user,
            channel=Channel.SMS,
            disabled_kinds=[],
            quiet_start=dtime(21),
            quiet_end=dtime(8),
            sms_consent=True,
        )
    assert "channel" in exc.value.message_dict
    assert not NotificationPreference.objects.filter(user=patient.user).exists()


def test_texts_can_be_chosen_with_a_mobile_number(texting_patient):
    user = User.objects.get(pk=texting_patient.user_id)  # as a request loads it
    pref = preference_update(
        actor=user,
        user=user,
        channel=Channel.SMS,
        disabled_kinds=[],
        quiet_start=None,
        quiet_end=None,
        sms_consent=True,
    )
    assert pref.channel == Channel.SMS and pref.sms_allowed


def test_the_portal_page_refuses_texts_without_a_number(client, patient):
    client.force_login(patient.user)
    response = client.post(
        reverse("notifications:preferences"), {"channel": "sms", "sms_consent": "on"}
    )
    assert response.status_code == 200
    assert "mobile number" in str(response.context["form"].errors["channel"])
    assert not NotificationPreference.objects.filter(user=patient.user, channel="sms").exists()


def test_a_nul_in_the_number_is_refused_and_nothing_recorded(client, webhook, texting_patient):
    response = post_signed(client, form(sender="+1555\x000102233"))
    assert response.status_code == 400
    assert not InboundSms.objects.exists()
    assert not opted_out(texting_patient)
