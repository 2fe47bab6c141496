"""The counselor opens the compliance grid, sorts it and reads a patient's week."""

import pytest

from tests.a11y import assert_accessible
from tests.conftest import save_screen

from .conftest import WEEK

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_counselor_sorts_the_compliance_grid(page, live_server, login, counselor, full_week):
    robin, sam = full_week
    page.set_default_timeout(10_000)
    login(page, counselor.username)
    page.goto(f"{live_server.url}/dashboard/compliance/?week={WEEK.isoformat()}")
    grid = page.get_by_test_id("compliance-grid")
    grid.wait_for()

    # Sort by hours, descending: the sort links are reachable from the keyboard.
    page.get_by_test_id("sort-hours").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**sort=hours**")
    page.get_by_test_id("sort-hours").click()
    page.wait_for_url("**sort=-hours**")
    header = page.locator("th[aria-sort]")
    assert header.get_attribute("aria-sort") == "descending"

    rows = page.get_by_test_id("grid-row")
    first = rows.nth(0)
    assert first.get_attribute("data-patient") == str(robin.pk)
    assert "9.0 of 9.0 h" in first.get_by_test_id("hours").inner_text()
    assert "Negative" in first.get_by_test_id("tests").inner_text()
    assert "Positive" in rows.nth(1).get_by_test_id("tests").inner_text()

    assert_accessible(page, live_server.url)
    save_screen(page, "dashboard_compliance_grid")
