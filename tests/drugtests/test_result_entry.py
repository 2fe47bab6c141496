"""Faster result entry: the panel starts all negative, the lab's name starts as the
site's usual lab and the site picker remembers the last site chosen."""

import re
from datetime import time, timedelta

import pytest
from django.urls import reverse

from core import sitechoice
from core.clock import local_datetime
from drugtests.models import AnalyteResult, TestAlert, TestingPolicy, TestResult, Via
from drugtests.selectors import usual_lab
from drugtests.services.collection import specimen_collect
from drugtests.services.random_draw import draw_run

pytestmark = pytest.mark.django_db
PANEL = ["buprenorphine", "fentanyl", "cocaine"]


@pytest.fixture
def every_day(site):
    return TestingPolicy.objects.create(
        site=site,
        name="Every day",
        frequency=7,
        period="week",
        collection_days="0123456",
        panel=PANEL,
    )


@pytest.fixture
def todays(patient, every_day, site, pinned_clock):
    draw_run(site=site, now=pinned_clock)
    return patient.test_selections.get()


def _collect(selection, collector, method="poc", code="C-7"):
    return specimen_collect(
        actor=collector,
        selection=selection,
        chain_of_custody_id=code,
        method=method,
        observed=True,
        temperature_in_range=True,
        validity="valid",
    )


def _url(selection):
    return reverse("drugtests:result", args=[selection.pk])


def _radio(html, name, value):
    """The radio input of ``name`` with ``value`` (its whole tag)."""
    for tag in re.findall(r"<input[^>]*>", html):
        if f'name="{name}"' in tag and f'value="{value}"' in tag and 'type="radio"' in tag:
            return tag
    return None


def _post(client, user, selection, **overrides):
    data = {"source": "poc", "lab_name": "", **{f"a_{a}": "negative" for a in PANEL}}
    data.update(overrides)
    client.force_login(user)
    return client.post(_url(selection), data)


def _outcomes():
    return dict(AnalyteResult.objects.values_list("analyte", "outcome"))


# --- the panel starts all negative ---------------------------------------------------


def test_form_shows_every_analyte_with_negative_checked(client, nurse, collector, todays):
    _collect(todays, collector)
    client.force_login(nurse)
    html = client.get(_url(todays)).content.decode()
    for analyte in PANEL:
        assert "checked" in _radio(html, f"a_{analyte}", "negative")
        for other in ("positive", "not_tested"):
            assert "checked" not in _radio(html, f"a_{analyte}", other)


def test_each_analyte_is_a_fieldset_named_by_its_legend(client, nurse, collector, todays):
    _collect(todays, collector)
    client.force_login(nurse)
    html = client.get(_url(todays)).content.decode()
    legends = [
        re.sub(r"<[^>]+>|\*", "", m).strip()
        for m in re.findall(r"<fieldset[^>]*>\s*<legend[^>]*>(.*?)</legend>", html, re.S)
    ]
    assert {"Buprenorphine", "Fentanyl", "Cocaine"} <= set(legends)
    for i in range(3):
        assert f'<label for="id_a_cocaine_{i}"' in html


def test_flipping_one_to_positive_saves_exactly_that_positive(client, nurse, collector, todays):
    _collect(todays, collector)
    response = _post(client, nurse, todays, a_cocaine="positive")
    assert response.status_code == 302
    assert _outcomes() == {
        "buprenorphine": "negative",
        "cocaine": "positive",
        "fentanyl": "negative",
    }
    result = TestResult.objects.get()
    assert result.source == "poc" and result.entered_by == nurse


def test_a_flipped_positive_still_raises_its_alert(client, nurse, collector, todays):
    _collect(todays, collector)
    _post(client, nurse, todays, a_fentanyl="positive")
    kinds = set(TestAlert.objects.filter(analyte="fentanyl").values_list("kind", flat=True))
    # One alert per positive test since #20: an opioid positive is the overdose-risk one.
    assert kinds == {"opioid_positive"}
    todays.refresh_from_db()
    assert todays.outcome == "positive"


def test_all_negative_as_shown_saves_a_negative_test(client, nurse, collector, todays):
    _collect(todays, collector)
    assert _post(client, nurse, todays).status_code == 302
    assert set(_outcomes().values()) == {"negative"}
    todays.refresh_from_db()
    assert todays.outcome == "negative"


def test_an_unknown_outcome_is_a_form_error(client, nurse, collector, todays):
    _collect(todays, collector)
    response = _post(client, nurse, todays, a_cocaine="dilute")
    assert response.status_code == 200 and "a_cocaine" in response.context["form"].errors
    assert not TestResult.objects.exists()


def test_a_missing_row_is_a_form_error_not_a_silent_negative(client, nurse, collector, todays):
    _collect(todays, collector)
    data = {"source": "poc", "a_buprenorphine": "negative", "a_fentanyl": "negative"}
    client.force_login(nurse)
    response = client.post(_url(todays), data)
    assert response.status_code == 200 and "a_cocaine" in response.context["form"].errors
    assert not TestResult.objects.exists()


# --- the laboratory --------------------------------------------------------------------


def test_a_cup_result_keeps_no_laboratory_name(client, nurse, collector, todays):
    _collect(todays, collector)
    _post(client, nurse, todays, lab_name="Acme Labs")
    assert TestResult.objects.get().lab_name == ""


def test_a_lab_result_keeps_its_laboratory_name(client, nurse, collector, todays):
    _collect(todays, collector, method="lab")
    _post(client, nurse, todays, source="lab", lab_name="Acme Labs")
    assert TestResult.objects.get().lab_name == "Acme Labs"


def test_lab_name_field_is_marked_lab_only(client, nurse, collector, todays):
    _collect(todays, collector)
    client.force_login(nurse)
    html = client.get(_url(todays)).content.decode()
    # Present without JavaScript; drugtests.js hides it while the source is the cup.
    assert re.search(r'class="[^"]*js-lab-only[^"]*"[^>]*>\s*<div id="div_id_lab_name"', html)
    assert "js/drugtests.js" in html


def _lab_result(specimen, lab, entered_at):
    # Interface reports: several on one specimen, each with its own time.
    return TestResult.objects.create(
        specimen=specimen, source="lab", via=Via.INTERFACE, lab_name=lab, entered_at=entered_at
    )


def _days_ago(today, days, site):
    return local_datetime(today - timedelta(days=days), time(12), site.tz)


@pytest.fixture
def lab_specimen(todays, collector):
    return _collect(todays, collector, method="lab")


def test_usual_lab_is_the_last_used_within_90_days(site, today, lab_specimen):
    _lab_result(lab_specimen, "Quest", _days_ago(today, 3, site))
    _lab_result(lab_specimen, "LabCorp", _days_ago(today, 40, site))
    assert usual_lab(site) == "Quest"


def test_usual_lab_ignores_labs_older_than_90_days(site, today, lab_specimen):
    _lab_result(lab_specimen, "Quest", _days_ago(today, 91, site))
    assert usual_lab(site) == ""
    _lab_result(lab_specimen, "LabCorp", _days_ago(today, 89, site))
    assert usual_lab(site) == "LabCorp"


def test_usual_lab_counts_90_days_on_the_sites_calendar(site, today, lab_specimen):
    first_day = today - timedelta(days=90)
    _lab_result(lab_specimen, "Quest", local_datetime(first_day, time(0, 30), site.tz))
    _lab_result(
        lab_specimen, "LabCorp", local_datetime(first_day, time(0), site.tz) - timedelta(minutes=30)
    )
    assert usual_lab(site) == "Quest"


def test_usual_lab_ignores_other_sites(site, other_site, today, lab_specimen):
    lab_specimen.selection.site = other_site
    lab_specimen.selection.save(update_fields=["site"])
    _lab_result(lab_specimen, "Quest", _days_ago(today, 2, site))
    assert usual_lab(site) == "" and usual_lab(other_site) == "Quest"


def test_result_form_starts_with_the_usual_lab(client, nurse, site, today, todays, collector):
    specimen = _collect(todays, collector, method="lab")
    _lab_result(specimen, "Quest", _days_ago(today, 5, site))
    client.force_login(nurse)
    response = client.get(_url(todays))
    assert response.context["form"]["lab_name"].value() == "Quest"
    assert 'value="Quest"' in response.content.decode()


# --- who may enter results (unchanged) ----------------------------------------------


@pytest.mark.parametrize("who", ["counselor", "outside_counselor", "collector"])
def test_others_cannot_enter_results(request, client, collector, todays, who):
    _collect(todays, collector)
    user = request.getfixturevalue(who)
    response = _post(client, user, todays, a_cocaine="positive")
    assert response.status_code in (403, 404)
    assert not TestResult.objects.exists()


def test_a_nurse_of_another_site_gets_404(client, make_staff, other_site, collector, todays):
    _collect(todays, collector)
    outsider = make_staff("nurse_west", "medical", sites=[other_site])
    response = _post(client, outsider, todays, a_cocaine="positive")
    assert response.status_code == 404 and not TestResult.objects.exists()


def test_a_colleague_nurse_at_the_site_enters_results(client, make_staff, collector, todays):
    _collect(todays, collector)
    colleague = make_staff("nurse_b", "medical")
    assert _post(client, colleague, todays).status_code == 302
    assert TestResult.objects.get().entered_by == colleague


# --- the site picker remembers the last site ---------------------------------------

TODAY = reverse("drugtests:today")


def _plant(client, site):
    session = client.session
    session[sitechoice.SESSION_KEY] = site.pk
    session.save()


def test_the_chosen_site_is_reused_by_the_next_picker(client, director, site, other_site):
    client.force_login(director)
    # Northside first by name, until another is chosen.
    assert client.get(TODAY).context["site"] == site
    client.get(TODAY, {"site": site.pk})
    assert client.get(TODAY).context["site"] == site
    client.get(TODAY, {"site": other_site.pk})
    assert client.get(TODAY).context["site"] == other_site
    # Shared with the other site pickers: the calendar opens on it too.
    assert client.get(reverse("scheduling:calendar")).context["site"] == other_site


def test_a_remembered_site_the_user_may_not_see_is_ignored(client, nurse, site, other_site):
    client.force_login(nurse)
    _plant(client, other_site)
    response = client.get(TODAY)
    assert response.status_code == 200 and response.context["site"] == site
    assert client.get(reverse("scheduling:calendar")).context["site"] == site


def test_a_site_refused_is_not_remembered(client, nurse, site, other_site):
    client.force_login(nurse)
    client.get(TODAY, {"site": site.pk})
    assert client.get(TODAY, {"site": other_site.pk}).status_code == 404
    assert client.session[sitechoice.SESSION_KEY] == site.pk


def test_a_site_chosen_on_the_calendar_opens_the_drug_tests(client, director, other_site):
    client.force_login(director)
    client.get(reverse("scheduling:calendar"), {"site": other_site.pk})
    assert client.get(TODAY).context["site"] == other_site


def test_the_outcome_legends_label_no_control(client, nurse, collector, todays):
    _collect(todays, collector)
    client.force_login(nurse)
    html = client.get(_url(todays)).content.decode()
    assert "<legend for=" not in html
