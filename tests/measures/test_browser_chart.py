"""A counselor opens the chart of a patient with several PHQ-9 sittings, reads the trend
(an SVG image named by its summary), and opens one sitting's item-level answers; every
page passes axe-core."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from measures import instrument_data
from measures.models import Instrument, InstrumentItem
from tests.a11y import assert_accessible, axe_violations
from tests.conftest import save_screen

from . import _chart_fixtures as fx

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

phq9_series = fx.phq9_series


@pytest.fixture
def instruments(transactional_db):
    # A transactional test before this one may have flushed migration 0003's rows.
    for code in ("phq9", "gad7"):
        instrument_data.load(Instrument, InstrumentItem, code)


def test_counselor_reads_the_phq9_trend_and_opens_the_answers(
    browser, live_server, login, instruments, patient, counselor, phq9_series
):
    sittings = phq9_series((18, 15, 12, 9))
    base = live_server.url
    page = browser.new_page()
    page.set_default_timeout(10_000)
    login(page, counselor.username)
    page.goto(f"{base}/patients/{patient.pk}/")
    panel = page.get_by_test_id("measures-chart-panel")
    trend = panel.get_by_role("img", name="PHQ-9 from 18 to 9, improved")
    trend.wait_for()
    assert trend.evaluate("e => e.tagName.toLowerCase()") == "svg"
    assert "18 (Moderately severe)" in trend.locator("desc").text_content()
    expect(panel.get_by_text("Improved (\u22129)")).to_be_visible()
    # The panel only: the chart's "Put on hold" button (btn-outline-warning) fails axe's
    # colour contrast already, outside this work (tests/patients/test_timeline_browser.py).
    axe_violations(page, base)  # loads axe
    found = page.evaluate(
        "async () => (await axe.run(document.querySelector('[data-testid=measures-chart-panel]'),"
        " {resultTypes: ['violations']})).violations"
        ".filter(v => ['serious', 'critical'].includes(v.impact)).map(v => v.id)"
    )
    assert found == []
    save_screen(page, "measures-chart-panel")

    panel.get_by_role("link", name="All scores and answers").click()
    page.wait_for_url(f"**/measures/patients/{patient.pk}/")
    page.get_by_role("img", name="PHQ-9 from 18 to 9, improved").wait_for()
    assert_accessible(page, base)
    save_screen(page, "measures-scores")

    page.get_by_test_id("scores-section-phq9").get_by_role("link", name="Answers").first.click()
    page.wait_for_url(f"**/measures/administrations/{sittings[0].pk}/")
    answers = page.get_by_test_id("answers")
    first_item = sittings[0].instrument.items.get(number=1)
    expect(answers.get_by_text(first_item.text_en)).to_be_visible()
    expect(answers.get_by_text(first_item.option(3)["en"]).first).to_be_visible()
    assert_accessible(page, base)
