"""A plan written, signed and signed by the patient in a real browser, without
JavaScript-only controls; every page passes axe-core."""

from __future__ import annotations

from datetime import timedelta

import pytest

from records.models import PlanVersion
from tests.a11y import assert_accessible
from tests.conftest import save_screen

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_counselor_writes_and_signs_a_plan_and_the_patient_signs_it_in_the_portal(
    browser, live_server, login, patient, counselor, today
):
    base = live_server.url
    page = browser.new_page()
    page.set_default_timeout(10_000)
    login(page, counselor.username)
    page.goto(f"{base}/records/patients/{patient.pk}/plan/")
    assert_accessible(page, base)
    page.get_by_role("button", name="Start plan").first.click()
    page.wait_for_url("**/edit/")
    page.locator("#id_problem-dimension").select_option("5")
    page.locator("#id_problem-description").fill("Cravings in the evenings")
    page.get_by_role("button", name="Add problem").click()
    page.locator("#id_goal-text").fill("I want my evenings back.")
    page.get_by_role("button", name="Add goal").click()
    page.locator("#id_objective-text").fill("Use a coping step at each craving.")
    page.locator("#id_objective-target_date").fill((today + timedelta(days=30)).isoformat())
    page.get_by_role("button", name="Add objective").click()
    page.locator("#id_intervention-frequency").fill("2 groups a week")
    page.get_by_role("button", name="Add intervention").click()
    assert_accessible(page, base)
    save_screen(page, "records-plan-editor")
    page.get_by_role("link", name="Review and sign…").click()
    page.locator("#id_confirm").check()
    page.get_by_role("button", name="Sign", exact=True).click()
    page.wait_for_url("**/plans/versions/*/")
    assert_accessible(page, base)
    version = PlanVersion.objects.get(plan__patient=patient)
    assert version.signed_at is not None

    portal = browser.new_page()
    portal.set_default_timeout(10_000)
    login(portal, patient.user.username)
    portal.get_by_role("link", name="Read and sign").click()
    assert_accessible(portal, base)
    portal.locator("#id_sign-confirm").check()
    portal.get_by_role("button", name="Sign my plan").click()
    portal.get_by_text("you have signed your treatment plan").wait_for()
    version.refresh_from_db()
    assert version.patient_signed_at is not None
