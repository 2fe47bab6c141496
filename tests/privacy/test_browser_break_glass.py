import pytest
from playwright.sync_api import expect

from tests.conftest import save_screen

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_break_glass_is_audited_and_the_director_is_alerted(
    page, login, live_server, counselor, director, other_counselor, make_patient
):
    outsider = make_patient(first="Lee", last="Distant", counselor_user=other_counselor)
    login(page, "counselor")
    page.goto(f"{live_server.url}/patients/{outsider.pk}/")
    expect(page.get_by_text("Page not found")).to_be_visible()

    page.get_by_role("button", name="More").click()
    page.get_by_role("link", name="Emergency access").click()
    page.get_by_label("Patient MRN").fill(outsider.mrn)
    page.get_by_label("Clinical reason for access").fill("Crisis call, primary counselor on leave")
    page.get_by_role("button", name="Open chart (emergency access)").click()
    assert page.get_by_test_id("chart-heading").inner_text().startswith("Lee Distant")
    expect(page.get_by_text("through emergency access")).to_be_visible()
    save_screen(page, "break_glass_chart")

    page.get_by_role("button", name="Log out").click()
    login(page, "director")
    alerts = page.get_by_test_id("break-glass-alerts")
    assert "Crisis call, primary counselor on leave" in alerts.inner_text()
    page.get_by_role("button", name="More").click()
    page.get_by_role("link", name="Audit trail").click()
    page.get_by_label("Action").fill("break_glass")
    page.get_by_role("button", name="Filter").click()
    rows = page.get_by_test_id("audit-row")
    assert rows.count() == 1
    assert "counselor" in rows.first.inner_text()
    save_screen(page, "break_glass_audit")
