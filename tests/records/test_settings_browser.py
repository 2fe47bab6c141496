"""In a real browser: the director finds the record rules from the holidays page, sets
them; the page passes axe-core. (The browser's own bounds stop a 0 before it is posted;
the server's message for it is in test_settings.py.)"""

import pytest

from records.models import RecordSettings
from tests.a11y import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_director_sets_the_record_rules_from_the_holidays_page(
    page, login, live_server, director, site
):
    login(page, "director")
    page.goto(f"{live_server.url}/scheduling/holidays/?site={site.pk}")
    page.get_by_test_id("record-settings-link").click()
    assert page.get_by_test_id("record-settings-heading").inner_text().endswith(site.name)
    assert_accessible(page, live_server.url)

    page.get_by_label("BIRP (Behavior, Intervention, Response, Plan)").uncheck()
    page.get_by_label("A co-signature is due within (days)").fill("14")
    page.get_by_role("button", name="Save record rules").click()
    assert f"Record rules of {site.name} saved." in page.content()
    rules = RecordSettings.objects.get(site=site)
    assert (rules.note_formats, rules.cosign_days) == ("DAP,SOAP", 14)
