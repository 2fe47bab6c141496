"""The characters-left counter in a real browser: silent far from the limit, counting in
its last tenth, and the browser stops typing at the limit."""

from datetime import date

import pytest

from core import limits
from recovery.services.homework import homework_assign, homework_template_create
from tests.a11y import assert_accessible
from tests.conftest import SCENARIO_NOW

pytestmark = [
    pytest.mark.frozen(SCENARIO_NOW),
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def test_the_counter_shows_near_the_limit(browser, live_server, login, patient, counselor, site):
    template = homework_template_create(
        actor=counselor, site=site, title="Relapse plan", instructions="Write it out."
    )
    homework_assign(actor=counselor, patient=patient, template=template, due_date=date(2027, 1, 8))
    page = browser.new_page()
    page.set_default_timeout(10_000)
    login(page, patient.user.username)
    page.goto(f"{live_server.url}/recovery/my/homework/")
    answer = page.get_by_label("Your answer")
    counter = page.locator(".char-counter").first

    answer.fill("a" * (limits.HOMEWORK_ANSWER // 2))
    assert counter.inner_text() == ""

    answer.fill("a" * (limits.HOMEWORK_ANSWER - 1_500))
    assert counter.inner_text() == "1,500 characters left"
    assert counter.get_attribute("aria-live") == "polite"
    assert_accessible(page, live_server.url)

    answer.fill("a" * (limits.HOMEWORK_ANSWER - 3))
    answer.press("End")
    page.keyboard.type("b" * 6)
    assert len(answer.input_value()) == limits.HOMEWORK_ANSWER
    assert counter.inner_text() == "0 characters left"
