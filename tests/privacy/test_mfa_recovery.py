"""MFA recovery: a QR code at enrolment, single-use backup codes, the director's audited
reset, and no unaudited way through the admin."""

import re

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.models import AuditEvent

CODE_RE = re.compile(r'data-testid="backup-code">([^<]+)<')


@pytest.fixture
def mfa_on(settings):
    settings.STEPWISE_REQUIRE_MFA = True


def _enrol(client, user) -> list[str]:
    """Log in, confirm a TOTP device, and return the backup codes the page shows."""
    client.force_login(user)
    client.get(reverse("privacy:mfa"))
    device = TOTPDevice.objects.get(user=user)
    response = client.post(
        reverse("privacy:mfa"), {"token": f"{totp(device.bin_key):06d}", "next": "/"}
    )
    assert response.status_code == 200, response.status_code
    return CODE_RE.findall(response.content.decode())


def _verify(client, user, token):
    """A fresh password-only session for ``user`` posting ``token`` to the verify step."""
    client.logout()
    client.force_login(user)
    return client.post(reverse("privacy:mfa"), {"token": token, "next": "/"})


def test_enrolment_page_shows_the_provisioning_uri_as_an_inline_svg_qr_code(
    client, counselor, mfa_on
):
    client.force_login(counselor)
    page = client.get(reverse("privacy:mfa")).content.decode()
    svg = re.search(r"<svg\b[^>]*>.*?</svg>", page, re.S)
    assert svg is not None
    assert 'role="img"' in svg.group(0) and "aria-label=" in svg.group(0)
    assert "<path" in svg.group(0)
    # The typed key stays as the fallback for a phone without a camera.
    device = TOTPDevice.objects.get(user=counselor)
    assert 'data-testid="totp-secret"' in page and "Key:" in page
    assert "otpauth://" not in svg.group(0)  # the URI is drawn, not written, in the image
    assert device.config_url  # what the QR encodes (decoded in the browser test)


def test_confirming_the_totp_device_issues_ten_single_use_backup_codes(client, counselor, mfa_on):
    codes = _enrol(client, counselor)
    assert len(codes) == 10 and len(set(codes)) == 10
    device = StaticDevice.objects.get(user=counselor)
    assert device.confirmed and device.token_set.count() == 10
    assert AuditEvent.objects.filter(action="auth.mfa_backup_codes_issued").count() == 1
    assert client.get(reverse("home")).status_code == 200


def test_backup_codes_are_stored_as_keyed_hashes_not_in_clear(client, counselor, mfa_on):
    codes = _enrol(client, counselor)
    stored = set(StaticToken.objects.values_list("token", flat=True))
    normalised = {c.replace("-", "") for c in codes}
    assert stored.isdisjoint(normalised) and stored.isdisjoint(codes)


def test_a_backup_code_completes_the_verify_step_once(client, counselor, mfa_on):
    codes = _enrol(client, counselor)
    response = _verify(client, counselor, codes[0])
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200
    assert StaticToken.objects.filter(device__user=counselor).count() == 9
    event = AuditEvent.objects.filter(action="auth.mfa_verified").latest("id")
    assert event.detail["method"] == "backup_code"


def test_a_backup_code_typed_with_spaces_and_capitals_is_accepted(client, counselor, mfa_on):
    codes = _enrol(client, counselor)
    typed = " " + codes[1].upper().replace("-", " - ") + " "
    assert _verify(client, counselor, typed).status_code == 302


def test_a_used_backup_code_is_refused_the_second_time(client, counselor, mfa_on):
    codes = _enrol(client, counselor)
    assert _verify(client, counselor, codes[0]).status_code == 302
    response = _verify(client, counselor, codes[0])
    assert response.status_code == 200
    assert "not valid" in response.content.decode()
    assert client.get(reverse("home")).status_code == 302
    assert AuditEvent.objects.filter(action="auth.mfa_failed").exists()


def test_a_wrong_backup_code_holds_off_the_next_try(client, counselor, mfa_on):
    # Guessing is slowed as for the app's codes: a miss locks the codes for a moment
    # (django-otp's back-off), so even a right code straight after it is refused.
    codes = _enrol(client, counselor)
    assert _verify(client, counselor, "aaaaa-aaaaa").status_code == 200
    assert _verify(client, counselor, codes[0]).status_code == 200
    assert StaticToken.objects.filter(device__user=counselor).count() == 10


def test_another_users_backup_code_is_refused(client, counselor, other_counselor, mfa_on):
    codes = _enrol(client, counselor)
    _enrol(Client(), other_counselor)
    response = _verify(client, other_counselor, codes[0])
    assert response.status_code == 200 and "not valid" in response.content.decode()
    assert StaticToken.objects.filter(device__user=counselor).count() == 10


def test_an_overlong_or_odd_code_is_a_form_error_not_a_500(client, counselor, mfa_on):
    _enrol(client, counselor)
    for token in ("x" * 500, "💊💊💊", "12 34 56 78 90 12"):
        response = _verify(client, counselor, token)
        assert response.status_code == 200
        assert "is-invalid" in response.content.decode()


def test_regenerating_backup_codes_voids_the_old_ones(client, counselor, mfa_on):
    old = _enrol(client, counselor)
    response = client.post(reverse("privacy:backup_codes"))
    new = CODE_RE.findall(response.content.decode())
    assert len(new) == 10 and set(new).isdisjoint(old)
    assert StaticToken.objects.filter(device__user=counselor).count() == 10
    assert AuditEvent.objects.filter(action="auth.mfa_backup_codes_issued").count() == 2
    assert _verify(client, counselor, new[0]).status_code == 302
    assert _verify(client, counselor, old[0]).status_code == 200


def test_regenerating_needs_a_verified_session(client, counselor):
    # MFA not required site-wide: the page itself asks for the second step.
    _enrol(client, counselor)
    client.logout()
    client.force_login(counselor)  # password only: not through the second step
    response = client.post(reverse("privacy:backup_codes"))
    assert response.status_code == 302 and response.url.startswith(reverse("privacy:mfa"))
    assert AuditEvent.objects.filter(action="auth.mfa_backup_codes_issued").count() == 1


def test_regenerating_without_an_authenticator_sends_to_enrolment(client, counselor):
    client.force_login(counselor)
    response = client.post(reverse("privacy:backup_codes"))
    assert response.status_code == 302 and response.url.startswith(reverse("privacy:mfa"))
    assert not StaticDevice.objects.filter(user=counselor).exists()


def test_saved_confirmation_continues_to_a_safe_next(client, counselor, mfa_on):
    _enrol(client, counselor)
    url = reverse("privacy:backup_codes_saved")
    assert client.post(url, {"saved": "on", "next": "/patients/"}).url == "/patients/"
    assert client.post(url, {"saved": "on", "next": "https://evil.example/"}).url == "/"


# --- the director's reset ---------------------------------------------------------


def _reset_url(user):
    return reverse("privacy:mfa_reset", kwargs={"pk": user.pk})


def test_director_resets_a_colleagues_mfa_with_an_audit_row(client, director, counselor, mfa_on):
    counselor_client = Client()
    _enrol(counselor_client, counselor)
    client.force_login(director)
    _director_verified(client, director)
    response = client.post(_reset_url(counselor), {"reason": "Lost phone on the bus"})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=counselor).exists()
    assert not StaticDevice.objects.filter(user=counselor).exists()
    event = AuditEvent.objects.get(action="auth.mfa_reset")
    assert event.actor == director and event.object_id == str(counselor.pk)
    assert event.detail["reason"] == "Lost phone on the bus"
    assert event.detail["devices_removed"] == 2


def test_reset_ends_the_users_sessions_and_they_must_enrol_again(
    client, director, counselor, mfa_on
):
    counselor_client = Client()
    _enrol(counselor_client, counselor)
    key = counselor_client.session.session_key
    client.force_login(director)
    _director_verified(client, director)
    client.post(_reset_url(counselor), {"reason": "Lost phone on the bus"})
    assert not Session.objects.filter(session_key=key).exists()
    counselor_client.force_login(counselor)
    page = counselor_client.get(reverse("privacy:mfa")).content.decode()
    assert "Key:" in page  # enrolment again


def test_reset_needs_a_reason(client, director, counselor, mfa_on):
    _enrol(Client(), counselor)
    client.force_login(director)
    _director_verified(client, director)
    response = client.post(_reset_url(counselor), {"reason": "  "})
    assert response.status_code == 200
    assert TOTPDevice.objects.filter(user=counselor).exists()


def test_counselor_cannot_reset_a_colleagues_mfa(client, counselor, other_counselor, mfa_on):
    _enrol(Client(), other_counselor)
    _enrol(client, counselor)
    response = client.post(_reset_url(other_counselor), {"reason": "Lost phone on the bus"})
    assert response.status_code == 403
    assert TOTPDevice.objects.filter(user=other_counselor).exists()
    assert not AuditEvent.objects.filter(action="auth.mfa_reset").exists()


def test_another_organisations_director_cannot_reset(client, counselor, mfa_on, db):
    from django.contrib.auth.models import Group

    from core.models import Organization, StaffProfile, User
    from core.roles import role_group_name

    _enrol(Client(), counselor)
    other_org = Organization.objects.create(name="Elsewhere Recovery", mrn_prefix="EL")
    outsider = User.objects.create_user(username="outsider", password="x" * 20)
    StaffProfile.objects.create(user=outsider, organization=other_org, role="director")
    outsider.groups.add(Group.objects.get(name=role_group_name("director")))
    client.force_login(outsider)
    _director_verified(client, outsider)
    response = client.post(_reset_url(counselor), {"reason": "Lost phone on the bus"})
    assert response.status_code == 404
    assert TOTPDevice.objects.filter(user=counselor).exists()
    assert AuditEvent.objects.filter(
        outcome=AuditEvent.Outcome.DENIED, action="auth.mfa_reset"
    ).exists()


def test_a_director_cannot_reset_their_own_mfa(client, director, mfa_on):
    _enrol(client, director)
    response = client.post(_reset_url(director), {"reason": "I lost my own phone"})
    assert response.status_code == 200
    assert "another director" in response.content.decode()
    assert TOTPDevice.objects.filter(user=director).exists()
    assert not AuditEvent.objects.filter(action="auth.mfa_reset").exists()


def test_reset_confirm_page_names_the_user(client, director, counselor):
    client.force_login(director)
    page = client.get(_reset_url(counselor)).content.decode()
    assert str(counselor) in page and 'name="reason"' in page


def test_staff_accounts_page_links_the_reset_for_a_colleague_not_oneself(
    client, director, counselor
):
    TOTPDevice.objects.create(user=counselor, name="app", confirmed=True)
    TOTPDevice.objects.create(user=director, name="app", confirmed=True)
    client.force_login(director)
    page = client.get(reverse("privacy:accounts")).content.decode()
    assert _reset_url(counselor) in page
    assert _reset_url(director) not in page


def _director_verified(client, user):
    """Take a director through enrolment so MFA-required pages open."""
    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        _enrol(client, user)


# --- the admin --------------------------------------------------------------------


@pytest.fixture
def superuser_client(client, db):
    from core.models import User

    admin_user = User.objects.create_superuser("root", "root@example.org", "x" * 20)
    client.force_login(admin_user)
    return client


@pytest.mark.parametrize("model", [TOTPDevice, StaticDevice])
def test_admin_cannot_delete_otp_devices(superuser_client, counselor, model):
    device = model.objects.create(user=counselor, name="d", confirmed=True)
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_delete", args=[device.pk])
    assert superuser_client.post(url, {"post": "yes"}).status_code == 403
    changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    superuser_client.post(
        changelist, {"action": "delete_selected", "_selected_action": [device.pk], "post": "yes"}
    )
    assert model.objects.filter(pk=device.pk).exists()


@pytest.mark.parametrize("model", [TOTPDevice, StaticDevice])
def test_admin_cannot_add_or_change_otp_devices(superuser_client, counselor, model):
    device = model.objects.create(user=counselor, name="d", confirmed=True)
    opts = model._meta
    add = reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
    assert superuser_client.get(add).status_code == 403
    change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[device.pk])
    superuser_client.post(change, {"user": counselor.pk, "name": "renamed", "confirmed": ""})
    device.refresh_from_db()
    assert device.name == "d" and device.confirmed


def test_admin_does_not_show_a_totp_secret(superuser_client, counselor):
    device = TOTPDevice.objects.create(user=counselor, name="d", confirmed=True)
    change = reverse("admin:otp_totp_totpdevice_change", args=[device.pk])
    page = superuser_client.get(change).content.decode()
    assert device.key not in page
    assert superuser_client.get(f"/admin/otp_totp/totpdevice/{device.pk}/qrcode/").status_code in (
        302,
        404,
    )


@pytest.mark.django_db(transaction=True)
def test_two_logins_racing_with_one_backup_code_let_only_one_through(counselor):
    """The second request reads the code before the first one commits its use: only the
    delete's row count, not the read, can tell it the code is gone."""
    import threading
    import time

    from django.db import connection, transaction

    from privacy.services import mfa_backup_codes_issue, mfa_verify

    if connection.vendor != "postgresql":
        pytest.skip("needs row locks held across two connections (PostgreSQL)")
    TOTPDevice.objects.create(user=counselor, name="app", confirmed=True)
    code = mfa_backup_codes_issue(user=counselor)[0]
    second: dict[str, object] = {}

    def other_login():
        try:
            second["device"] = mfa_verify(user=counselor, token=code)
        finally:
            connection.close()

    with transaction.atomic():
        first = mfa_verify(user=counselor, token=code)
        thread = threading.Thread(target=other_login)
        thread.start()
        time.sleep(1.0)  # the other login is now waiting on the row this one deleted
    thread.join(timeout=30)
    assert first is not None
    assert second["device"] is None
    assert StaticToken.objects.filter(device__user=counselor).count() == 9
