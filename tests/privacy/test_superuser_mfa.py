"""The second step covers every account that reaches the admin, not only clinic staff: a
superuser made with createsuperuser has no staff profile, and the admin shows every
record (#16)."""

import pytest
from django.contrib.auth import get_user_model
from django.test import RequestFactory

from core.adminsite import StepwiseAdminSite


@pytest.fixture
def bare_superuser(db):
    return get_user_model().objects.create_superuser("root", "root@example.org", "x-long-pass-1")


def test_a_superuser_without_a_staff_profile_is_sent_to_the_second_step(
    client, bare_superuser, settings
):
    settings.STEPWISE_REQUIRE_MFA = True
    client.force_login(bare_superuser)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response.url.startswith("/privacy/mfa/")


def test_the_admin_refuses_an_unverified_superuser_even_without_the_middleware(
    bare_superuser, settings
):
    settings.STEPWISE_REQUIRE_MFA = True
    request = RequestFactory().get("/admin/")
    bare_superuser.is_verified = lambda: False
    request.user = bare_superuser
    assert StepwiseAdminSite().has_permission(request) is False
    bare_superuser.is_verified = lambda: True
    assert StepwiseAdminSite().has_permission(request) is True


def test_without_mfa_required_a_superuser_reaches_the_admin(client, bare_superuser):
    client.force_login(bare_superuser)
    assert client.get("/admin/").status_code == 200


def test_a_superuser_without_a_staff_profile_can_enrol_and_then_reach_the_admin(
    client, bare_superuser, settings
):
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    settings.STEPWISE_REQUIRE_MFA = True
    client.force_login(bare_superuser)
    assert client.get("/privacy/mfa/?next=/admin/").status_code == 200
    device = TOTPDevice.objects.get(user=bare_superuser)
    response = client.post(
        "/privacy/mfa/?next=/admin/", {"token": f"{totp(device.bin_key):06d}", "next": "/admin/"}
    )
    assert response.status_code == 200  # the backup codes, shown once
    assert client.get("/admin/").status_code == 200


def test_a_patient_gets_no_second_step_page(client, patient, settings):
    settings.STEPWISE_REQUIRE_MFA = True
    client.force_login(patient.user)
    assert client.get("/privacy/mfa/").status_code == 403
