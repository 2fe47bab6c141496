"""The main flow in a real browser: draw, portal notice, collection, lab result."""

from datetime import date, time

import pytest
from playwright.sync_api import expect

from tests.conftest import SCENARIO_NOW, save_screen

pytestmark = [
    pytest.mark.frozen(SCENARIO_NOW),  # the scenario instant (tests/conftest.py)
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def _logout(page):
    page.get_by_role("button", name="Log out").click()
    page.context.clear_cookies()


def test_draw_notice_collection_and_prescribed_but_absent(
    page, login, live_server, site, patient, collector, nurse, pinned_clock
):
    from drugtests.models import Selection, SiteTestingSettings, Specimen, TestingPolicy
    from drugtests.tasks import run_due_draws
    from patients.services.medication import medication_order_create

    # Everyone is drawn (7 of 7 days) so the flow does not depend on chance.
    TestingPolicy.objects.create(
        site=site,
        name="Every day",
        frequency=7,
        period="week",
        collection_days="0123456",
        deadline_time=time(17, 0),
        panel=["buprenorphine", "fentanyl", "cocaine"],
    )
    SiteTestingSettings.objects.create(site=site, draw_time=time(0, 0))
    medication_order_create(
        actor=nurse,
        patient=patient,
        medication="buprenorphine_sl",
        dose="8 mg",
        frequency="daily",
        prescriber="Dr. Adler",
        start_date=date(2026, 9, 1),
    )

    # The draw runs (the beat job, at the site's draw time), at 09:00 today.
    assert run_due_draws(pinned_clock.isoformat()) == 1
    selection = Selection.objects.get(patient=patient)

    # The patient sees the notice on the portal home.
    login(page, patient.user.username)
    notice = page.get_by_test_id("test-notice")
    assert "You have been selected for testing today. Report by 5:00 PM." in notice.inner_text()
    save_screen(page, "drugtests_portal_notice")
    _logout(page)

    # The collector records the specimen, sent to the lab.
    login(page, "collector")
    page.get_by_role("link", name="Drug tests").click()
    row = page.get_by_test_id(f"selection-{selection.pk}")
    row.get_by_role("link", name="Collect").click()
    page.get_by_label("Sent to laboratory").check()
    page.get_by_label("Collection was observed").check()
    page.get_by_label("Temperature 90-100 °F within 4 minutes").select_option("yes")
    page.get_by_label("Validity outcome").select_option("valid")
    page.get_by_label("Chain-of-custody id").fill("COC-2026-0001")
    page.get_by_role("button", name="Record collection").click()
    page.get_by_text("Specimen recorded").wait_for()
    assert Specimen.objects.get().chain_of_custody_id == "COC-2026-0001"
    save_screen(page, "drugtests_collected")
    _logout(page)

    # The nurse enters the lab's result: buprenorphine negative for a patient on it.
    login(page, "nurse")
    page.get_by_role("link", name="Drug tests").click()
    page.get_by_test_id(f"selection-{selection.pk}").get_by_role(
        "link", name="Enter results"
    ).click()
    page.get_by_label("Laboratory", exact=True).fill("Acme Toxicology")
    # Every analyte of the panel starts negative, each a group of radios named by it.
    for analyte in ("Buprenorphine", "Fentanyl"):
        assert page.get_by_role("group", name=analyte).get_by_label("Negative").is_checked()
    page.get_by_role("button", name="Save results").click()
    flag = page.get_by_test_id("flag-prescribed-absent")
    assert "Prescribed but absent" in flag.inner_text()
    assert "Prescribed but absent" in page.get_by_test_id("results").inner_text()
    save_screen(page, "drugtests_prescribed_absent")
    selection.refresh_from_db()
    assert selection.alerts.filter(kind="prescribed_absent", analyte="buprenorphine").exists()


def test_result_form_shows_the_lab_name_for_a_lab_result_only(
    page, login, live_server, site, patient, collector, nurse, pinned_clock
):
    from django.urls import reverse

    from drugtests.models import AnalyteResult, TestingPolicy
    from drugtests.services.collection import specimen_collect
    from drugtests.services.random_draw import draw_run
    from tests.a11y import assert_accessible

    TestingPolicy.objects.create(
        site=site,
        name="Every day",
        frequency=7,
        period="week",
        collection_days="0123456",
        panel=["fentanyl", "cocaine"],
    )
    draw_run(site=site, now=pinned_clock)
    selection = patient.test_selections.get()
    specimen_collect(
        actor=collector,
        selection=selection,
        chain_of_custody_id="COC-CUP-1",
        method="poc",
        observed=True,
        temperature_in_range=True,
        validity="valid",
    )
    login(page, "nurse")
    page.goto(live_server.url + reverse("drugtests:result", args=[selection.pk]))
    lab = page.get_by_label("Laboratory", exact=True)
    expect(lab).to_be_hidden()
    assert_accessible(page, live_server.url)
    page.get_by_label("Sent to laboratory").check()
    expect(lab).to_be_visible()
    page.get_by_label("Point-of-care cup").check()
    expect(lab).to_be_hidden()
    page.get_by_role("group", name="Cocaine").get_by_label("Positive").check()
    page.get_by_role("button", name="Save results").click()
    page.get_by_text("Results saved").wait_for()
    outcomes = dict(AnalyteResult.objects.values_list("analyte", "outcome"))
    assert outcomes == {"cocaine": "positive", "fentanyl": "negative"}
