"""Two-step verification in a real browser: enrol by reading the QR code off the screen,
keep the backup codes, log in once with one of them, and see it refused the second time."""

import base64
import io
from urllib.parse import parse_qs, urlparse

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from playwright.sync_api import expect

from core.models import AuditEvent
from tests.a11y import assert_accessible
from tests.conftest import PASSWORD, save_screen

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def mfa_on(settings):
    settings.STEPWISE_REQUIRE_MFA = True


def _password_step(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/privacy/mfa/**")


def _read_qr(page) -> str:
    """Decode the QR code as the browser drew it, as a phone's camera would."""
    import zxingcpp
    from PIL import Image

    shot = page.get_by_role("img", name="QR code to add Stepwise to an authenticator app")
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(shot.screenshot())))
    assert len(results) == 1, "no QR code could be read off the page"
    return results[0].text


def test_enrol_by_qr_code_then_a_backup_code_logs_in_once(page, live_server, counselor, mfa_on):
    _password_step(page, live_server, "counselor")
    expect(
        page.get_by_role("img", name="QR code to add Stepwise to an authenticator app")
    ).to_be_visible()
    assert_accessible(page, live_server.url)
    save_screen(page, "mfa_enrol_qr")

    uri = urlparse(_read_qr(page))
    assert uri.scheme == "otpauth" and uri.netloc == "totp"
    query = parse_qs(uri.query)
    assert query["issuer"] == ["Stepwise"]
    secret = query["secret"][0]
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    # The typed fallback is the same key.
    page.get_by_text("Can't scan it? Type the key instead").click()
    assert page.get_by_test_id("totp-secret").inner_text() == secret

    page.get_by_label("6-digit code from your authenticator app").fill(f"{totp(key):06d}")
    page.get_by_role("button", name="Verify").click()
    codes = page.get_by_test_id("backup-code").all_inner_texts()
    assert len(codes) == 10
    # Checked before the buttons are pressed: a pressed button, mid-transition, can read
    # as low contrast to axe.
    assert_accessible(page, live_server.url)
    save_screen(page, "mfa_backup_codes")
    # Print and Copy are wired (a script file: the CSP forbids inline handlers).
    page.evaluate("() => { window.print = () => { window.printed = true; }; }")
    page.get_by_role("button", name="Print").click()
    assert page.evaluate("() => window.printed === true")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()  # the write is async
    assert page.evaluate("() => navigator.clipboard.readText()") == "\n".join(codes)
    page.get_by_label("I have saved these codes somewhere safe").check()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{live_server.url}/")
    page.get_by_role("button", name="Log out").click()

    # The phone is lost: a backup code stands in for the app, once.
    _password_step(page, live_server, "counselor")
    page.get_by_label("6-digit code from your authenticator app").fill(codes[0])
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(f"{live_server.url}/")
    expect(page.get_by_text("Backup code used: 9 left")).to_be_visible()
    assert StaticToken.objects.filter(device__user=counselor).count() == 9
    page.get_by_role("button", name="Log out").click()

    _password_step(page, live_server, "counselor")
    page.get_by_label("6-digit code from your authenticator app").fill(codes[0])
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_text("That code is not valid")).to_be_visible()
    assert page.url.startswith(f"{live_server.url}/privacy/mfa/")
    page.goto(f"{live_server.url}/")
    assert page.url.startswith(f"{live_server.url}/privacy/mfa/")  # still not through
    assert AuditEvent.objects.filter(
        action="auth.mfa_failed", actor=counselor, detail__method="backup_code"
    ).exists()
