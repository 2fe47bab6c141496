"""Lockout after failed logins: per username and per username and address, never one
shared address for everyone; the client address read only from a trusted proxy header;
the admin's login behind the same check."""

import pytest
from django.test import RequestFactory
from django.urls import reverse

from core import audit
from core.models import AuditEvent
from tests.conftest import PASSWORD

CLINIC_WIFI = "203.0.113.7"


def _login(client, username, password=PASSWORD, ip=CLINIC_WIFI, path=None, **extra):
    return client.post(
        path or reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR=ip,
        **extra,
    )


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_twenty_bad_passwords_for_others_on_one_network_do_not_lock_out_a_colleague(
    client, counselor, settings
):
    for n in range(20):
        _login(client, f"patient{n}", "wrong")
    response = _login(client, "counselor")
    assert response.status_code == 302
    assert _signed_in(client)


def test_bad_passwords_for_one_user_lock_that_user_from_that_address(client, counselor, settings):
    for _ in range(settings.LOGIN_LOCKOUT_ATTEMPTS):
        _login(client, "counselor", "wrong")
    response = _login(client, "counselor")
    assert "Too many failed attempts" in response.content.decode()
    assert not _signed_in(client)
    locked = AuditEvent.objects.get(action="auth.login_locked", actor_label="counselor")
    assert locked.detail["scope"] == "address"


def test_a_lock_from_one_address_leaves_the_user_free_from_another(client, counselor, settings):
    for _ in range(settings.LOGIN_LOCKOUT_ATTEMPTS):
        _login(client, "counselor", "wrong", ip="198.51.100.9")
    assert _login(client, "counselor", ip=CLINIC_WIFI).status_code == 302


def test_bad_passwords_for_one_user_from_many_addresses_lock_the_account(
    client, counselor, settings
):
    for n in range(settings.LOGIN_LOCKOUT_USER_ATTEMPTS):
        _login(client, "counselor", "wrong", ip=f"198.51.100.{n + 1}")
    response = _login(client, "counselor", ip=CLINIC_WIFI)
    assert "Too many failed attempts" in response.content.decode()
    assert not _signed_in(client)
    locked = AuditEvent.objects.get(action="auth.login_locked", actor_label="counselor")
    assert locked.detail["scope"] == "account"


def test_the_network_wide_limit_is_far_above_a_clinics_mistypes(settings):
    # Kept only against credential stuffing (one try at each of many usernames).
    assert settings.LOGIN_LOCKOUT_IP_ATTEMPTS >= 5 * settings.LOGIN_LOCKOUT_USER_ATTEMPTS


def test_the_network_wide_limit_stops_credential_stuffing(client, counselor, settings):
    settings.LOGIN_LOCKOUT_IP_ATTEMPTS = 8
    for n in range(8):
        _login(client, f"someone{n}", "wrong")
    response = _login(client, "counselor")
    assert "Too many failed attempts" in response.content.decode()
    assert AuditEvent.objects.get(action="auth.login_locked").detail["scope"] == "network"


def test_x_forwarded_for_is_ignored_without_a_trusted_proxy_header(client, counselor, settings):
    settings.TRUSTED_PROXY_HEADER = ""
    # An attacker rotating a forged header must still be counted at their real address.
    for n in range(settings.LOGIN_LOCKOUT_ATTEMPTS):
        _login(client, "counselor", "wrong", HTTP_X_FORWARDED_FOR=f"10.9.9.{n}")
    response = _login(client, "counselor", HTTP_X_FORWARDED_FOR="10.9.9.200")
    assert "Too many failed attempts" in response.content.decode()
    ips = set(AuditEvent.objects.filter(action="auth.login_failed").values_list("ip", flat=True))
    assert ips == {CLINIC_WIFI}


def test_the_trusted_proxy_header_gives_each_client_its_own_address(client, counselor, settings):
    settings.TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    settings.NUM_PROXIES = 1
    proxy = "10.0.0.2"
    for _ in range(settings.LOGIN_LOCKOUT_ATTEMPTS):
        _login(client, "counselor", "wrong", ip=proxy, HTTP_X_FORWARDED_FOR="198.51.100.4")
    # The same user from another client behind the same proxy is not locked out.
    ok = _login(client, "counselor", ip=proxy, HTTP_X_FORWARDED_FOR="198.51.100.5")
    assert ok.status_code == 302
    ips = set(AuditEvent.objects.filter(action="auth.login_failed").values_list("ip", flat=True))
    assert ips == {"198.51.100.4"}


@pytest.mark.parametrize(
    ("forwarded", "proxies", "expected"),
    [
        ("198.51.100.4", 1, "198.51.100.4"),
        # A client-supplied entry in front is what the client claims: skipped.
        ("6.6.6.6, 198.51.100.4", 1, "198.51.100.4"),
        ("6.6.6.6, 198.51.100.4, 10.0.0.3", 2, "198.51.100.4"),
        # Fewer entries than proxies, or garbage: the proxy's own address.
        ("198.51.100.4", 2, "10.0.0.2"),
        ("not-an-address", 1, "10.0.0.2"),
        ("", 1, "10.0.0.2"),
    ],
)
def test_client_ip_takes_the_entry_the_nearest_trusted_proxy_saw(
    settings, forwarded, proxies, expected
):
    settings.TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    settings.NUM_PROXIES = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)
    assert audit.client_ip(request) == expected


def test_admin_login_is_locked_like_the_staff_login(client, director, settings):
    for _ in range(settings.LOGIN_LOCKOUT_ATTEMPTS):
        _login(client, "director", "wrong", path="/admin/login/")
    response = _login(client, "director", path="/admin/login/")
    assert response.status_code == 200
    assert "Too many failed attempts" in response.content.decode()
    assert not _signed_in(client)
    assert AuditEvent.objects.filter(action="auth.login_locked", actor_label="director").exists()


def test_admin_login_failures_count_towards_the_staff_login_lock(client, director, settings):
    for _ in range(settings.LOGIN_LOCKOUT_ATTEMPTS):
        _login(client, "director", "wrong", path="/admin/login/")
    response = _login(client, "director")
    assert "Too many failed attempts" in response.content.decode()


def test_admin_login_still_refuses_an_account_without_admin_rights(client, counselor):
    response = _login(client, "counselor", path="/admin/login/")
    assert response.status_code == 200
    assert not _signed_in(client)


@pytest.fixture
def superuser(make_staff):
    return make_staff("root", "director", sites=[], is_staff=True, is_superuser=True)


def test_admin_login_still_admits_an_admin(client, superuser):
    response = _login(client, "root", path="/admin/login/")
    assert response.status_code == 302
    assert _signed_in(client)


def test_admin_after_password_still_asks_staff_for_the_second_step(client, superuser, settings):
    settings.STEPWISE_REQUIRE_MFA = True
    _login(client, "root", path="/admin/login/")
    response = client.get("/admin/")
    assert response.status_code == 302 and response.url.startswith(reverse("privacy:mfa"))
