import pytest
from playwright.sync_api import expect

from tests.a11y import assert_accessible
from tests.conftest import save_screen

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(
    ("role", "heading"),
    [
        ("director", "Program director home"),
        ("counselor", "Counselor home"),
        ("medical", "Medical staff home"),
        ("frontdesk", "Front desk home"),
        ("collector", "Collection technician home"),
    ],
)
def test_each_role_logs_in_and_sees_its_home(page, login, live_server, make_staff, role, heading):
    make_staff(f"user_{role}", role)
    login(page, f"user_{role}")
    assert page.get_by_test_id("home-heading").inner_text() == heading
    save_screen(page, f"home_{role}")
    assert_accessible(page, live_server.url)


def test_patient_logs_in_and_sees_the_portal(page, login, live_server, patient):
    page.set_viewport_size({"width": 375, "height": 740})
    login(page, patient.user.username)
    assert page.get_by_test_id("home-heading").inner_text().startswith("Hello,")
    assert_accessible(page, live_server.url)


def test_wrong_password_is_refused_in_the_browser(page, live_server, counselor):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("counselor")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("do not match")).to_be_visible()
    assert_accessible(page, live_server.url)
