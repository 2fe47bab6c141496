"""A court letter in a real browser: the counselor makes it for a consented patient and
opens the PDF (its text read back), a patient without a consent gets no letter, and the
patient finds the disclosure in the portal. Every page passes axe-core."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from privacy.services import PART2_NOTICE
from tests.a11y import assert_accessible
from tests.conftest import save_screen

from .conftest import COURT, pdf_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_counselor_sends_a_court_letter_and_the_patient_sees_it_in_the_portal(
    browser, live_server, login, patient, other_patient, counselor, court_consent
):
    court_consent(patient)
    base = live_server.url
    page = browser.new_page()
    page.set_default_timeout(10_000)
    login(page, counselor.username)

    # No consent: the letters page says so and offers no letter.
    page.goto(f"{base}/patients/{other_patient.pk}/")
    page.get_by_test_id("letters-chart").get_by_role("link", name="Letters").click()
    expect(page.get_by_test_id("no-consent")).to_be_visible()
    assert page.get_by_role("link", name=f"Write to {COURT}").count() == 0

    # The consented patient: from the chart to the letter form.
    page.goto(f"{base}/patients/{patient.pk}/")
    page.get_by_test_id("letters-chart").get_by_role("link", name="Letters").click()
    page.get_by_role("link", name=f"Write to {COURT}").click()
    assert "verified mutual-help meetings" in page.get_by_test_id("uncovered").inner_text()
    assert_accessible(page, base)
    page.get_by_label("Drug test dates and results").uncheck()
    page.get_by_role("button", name="Make the letter").click()
    page.get_by_test_id("letter-sent-heading").wait_for()
    assert_accessible(page, base)
    save_screen(page, "letters-letter-made")

    href = page.get_by_test_id("letter-pdf-link").get_attribute("href")
    response = page.request.get(f"{base}{href}")
    assert response.ok and response.headers["content-type"] == "application/pdf"
    text = pdf_text(response.body())
    assert "Attendance" in text and "Current status" in text
    assert "Drug tests" not in text
    assert COURT in text and patient.legal_name in text
    assert " ".join(PART2_NOTICE.split()) in text

    page.get_by_role("button", name="Log out").click()
    login(page, patient.user.username)
    page.get_by_role("link", name="Disclosures").click()
    row = page.get_by_test_id("disclosure-row").first
    assert COURT in row.inner_text()
    assert "Compliance letter: attendance and weekly hours, current status and phase" in (
        row.inner_text()
    )
    assert_accessible(page, base)
    save_screen(page, "letters-portal-disclosures")
