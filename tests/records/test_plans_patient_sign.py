"""The patient signs after the clinician: at the clinic with the portal password or a
one-time code texted to them, or in the portal."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from notifications import channels
from notifications.privacy import violations
from records.models import Signature, SignatureMethod, SigningCode
from records.services.plans import (
    plan_patient_sign,
    plan_patient_sign_portal,
    signing_code_issue,
)

from . import _plans_fixtures as fx

draft, signed = fx.draft, fx.signed
pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
def texts(settings):
    settings.STEPWISE_SMS_BACKEND = "locmem"
    channels.sms_outbox.clear()
    yield channels.sms_outbox
    channels.sms_outbox.clear()


@pytest.fixture
def reachable(patient):
    patient.phone = "+12125550143"
    patient.save(update_fields=["phone"])
    return patient


def _issue(signed, counselor, django_capture_on_commit_callbacks, texts):
    with django_capture_on_commit_callbacks(execute=True):
        signing_code_issue(actor=counselor, version=signed)
    return texts[-1]["body"].split()[4].rstrip(".")


def test_password_signature(signed, counselor):
    version = plan_patient_sign(
        actor=counselor, version=signed, method=SignatureMethod.PASSWORD, password=PASSWORD
    )
    assert version.patient_signed_at is not None
    signature = Signature.objects.get(plan_version=version, role="patient")
    assert signature.method == SignatureMethod.PASSWORD
    assert signature.content_hash == version.content_hash


def test_wrong_password_is_refused(signed, counselor):
    with pytest.raises(ValidationError, match="password"):
        plan_patient_sign(
            actor=counselor, version=signed, method=SignatureMethod.PASSWORD, password="nope"
        )
    signed.refresh_from_db()
    assert signed.patient_signed_at is None


def test_a_refused_password_leaves_an_audit_row(signed, counselor):
    from core.models import AuditEvent

    with pytest.raises(ValidationError):
        plan_patient_sign(
            actor=counselor, version=signed, method=SignatureMethod.PASSWORD, password="nope"
        )
    assert AuditEvent.objects.filter(
        action="records.plan.patient_sign_refused", object_id=str(signed.pk)
    ).exists()


def test_the_patient_signs_after_the_clinician(draft, counselor):
    with pytest.raises(ValidationError, match="clinician signs the plan first"):
        plan_patient_sign(
            actor=counselor, version=draft, method=SignatureMethod.PASSWORD, password=PASSWORD
        )


def test_signing_code_text_reveals_no_treatment(
    signed, counselor, reachable, texts, django_capture_on_commit_callbacks
):
    _issue(signed, counselor, django_capture_on_commit_callbacks, texts)
    body = texts[-1]["body"]
    assert body.startswith("Your Stepwise code is ") and "10 minutes" in body
    assert violations(body) == []
    assert texts[-1]["to"] == "+12125550143"


def test_signing_code_is_kept_only_as_a_hash(
    signed, counselor, reachable, texts, django_capture_on_commit_callbacks
):
    code = _issue(signed, counselor, django_capture_on_commit_callbacks, texts)
    row = SigningCode.objects.get(plan_version=signed)
    assert code not in row.code_hash and len(row.code_hash) == 64


def test_one_time_code_signature(
    signed, counselor, reachable, texts, django_capture_on_commit_callbacks
):
    code = _issue(signed, counselor, django_capture_on_commit_callbacks, texts)
    version = plan_patient_sign(
        actor=counselor, version=signed, method=SignatureMethod.ONE_TIME_CODE, code=code
    )
    assert version.patient_signed_at is not None
    assert SigningCode.objects.get(plan_version=signed).used_at is not None
    assert Signature.objects.get(plan_version=signed, role="patient").method == "one_time_code"


def test_wrong_code_is_refused_and_counted(
    signed, counselor, reachable, texts, django_capture_on_commit_callbacks
):
    code = _issue(signed, counselor, django_capture_on_commit_callbacks, texts)
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(ValidationError, match="not right"):
        plan_patient_sign(
            actor=counselor, version=signed, method=SignatureMethod.ONE_TIME_CODE, code=wrong
        )
    assert SigningCode.objects.get(plan_version=signed).attempts == 1
    signed.refresh_from_db()
    assert signed.patient_signed_at is None


def test_expired_code_is_refused(
    signed, counselor, reachable, texts, django_capture_on_commit_callbacks, test_now
):
    code = _issue(signed, counselor, django_capture_on_commit_callbacks, texts)
    later = test_now + timedelta(minutes=11)
    with (
        time_machine.travel(later, tick=False),
        pytest.raises(ValidationError, match="expired"),
    ):
        plan_patient_sign(
            actor=counselor, version=signed, method=SignatureMethod.ONE_TIME_CODE, code=code
        )
    signed.refresh_from_db()
    assert signed.patient_signed_at is None


def test_too_many_attempts_retire_the_code(
    signed, counselor, reachable, texts, django_capture_on_commit_callbacks
):
    code = _issue(signed, counselor, django_capture_on_commit_callbacks, texts)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        with pytest.raises(ValidationError):
            plan_patient_sign(
                actor=counselor, version=signed, method=SignatureMethod.ONE_TIME_CODE, code=wrong
            )
    with pytest.raises(ValidationError, match="Too many"):
        plan_patient_sign(
            actor=counselor, version=signed, method=SignatureMethod.ONE_TIME_CODE, code=code
        )
    signed.refresh_from_db()
    assert signed.patient_signed_at is None


def test_a_code_needs_a_number_a_text_can_reach(signed, counselor, patient):
    patient.phone = ""
    patient.save(update_fields=["phone"])
    with pytest.raises(ValidationError, match="mobile number"):
        signing_code_issue(actor=counselor, version=signed)


def test_portal_signature(signed, patient):
    version = plan_patient_sign_portal(patient_user=patient.user, version=signed)
    assert version.patient_signed_at is not None
    assert Signature.objects.get(plan_version=signed, role="patient").method == "portal"


def test_a_patient_cannot_sign_another_patients_plan(signed, other_patient):
    with pytest.raises(ValidationError):
        plan_patient_sign_portal(patient_user=other_patient.user, version=signed)
    signed.refresh_from_db()
    assert signed.patient_signed_at is None


def test_a_second_patient_signature_is_refused(signed, patient):
    plan_patient_sign_portal(patient_user=patient.user, version=signed)
    with pytest.raises(ValidationError, match="already signed"):
        plan_patient_sign_portal(patient_user=patient.user, version=signed)
    assert Signature.objects.filter(plan_version=signed, role="patient").count() == 1


def test_portal_page_signs_the_patients_own_plan(client, signed, patient):
    client.force_login(patient.user)
    response = client.post(reverse("records:portal_plan"), {"sign-confirm": "on"})
    assert response.status_code == 302
    signed.refresh_from_db()
    assert signed.patient_signed_at is not None


def test_portal_page_shows_only_the_patients_own_plan(client, signed, other_patient):
    client.force_login(other_patient.user)
    response = client.get(reverse("records:portal_plan"))
    assert response.status_code == 200
    assert b"Problem 0" not in response.content
    response = client.post(reverse("records:portal_plan"), {"sign-confirm": "on"})
    signed.refresh_from_db()
    assert signed.patient_signed_at is None


def test_a_patient_cannot_open_the_staff_plan_pages(client, signed, other_patient, patient):
    client.force_login(other_patient.user)
    for url in (
        reverse("records:plan", args=[patient.pk]),
        reverse("records:plan_version", args=[signed.pk]),
    ):
        assert client.get(url).status_code == 404


def test_patient_sign_page_with_password(client, signed, counselor):
    client.force_login(counselor)
    url = reverse("records:plan_patient_sign", args=[signed.pk])
    response = client.post(
        url, {"method": "password", "password": PASSWORD, "code": "", "confirm": "on"}
    )
    assert response.status_code == 302
    signed.refresh_from_db()
    assert signed.patient_signed_at is not None


def test_patient_sign_page_wrong_password_shows_a_message(client, signed, counselor):
    client.force_login(counselor)
    url = reverse("records:plan_patient_sign", args=[signed.pk])
    response = client.post(url, {"method": "password", "password": "x", "confirm": "on"})
    assert response.status_code == 422
    assert b"That password is not right." in response.content
    signed.refresh_from_db()
    assert signed.patient_signed_at is None
