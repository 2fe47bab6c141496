from datetime import timedelta

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from drugtests.models import Draw, Selection, Specimen, TestingPolicy, TestResult
from drugtests.services.collection import specimen_collect
from drugtests.services.random_draw import draw_run

pytestmark = pytest.mark.django_db
TODAY_URL = reverse("drugtests:today")


@pytest.fixture
def every_day(site):
    return TestingPolicy.objects.create(
        site=site,
        name="Every day",
        frequency=7,
        period="week",
        collection_days="0123456",
        panel=["buprenorphine", "fentanyl", "cocaine"],
    )


@pytest.fixture(autouse=True)
def nine_am(pinned_clock):
    return pinned_clock


@pytest.fixture
def todays(patient, every_day, site, nine_am):
    """``patient`` selected in today's draw, made at 09:00 site time."""
    draw_run(site=site, now=nine_am)
    return patient.test_selections.get()


def _client(client, user):
    client.force_login(user)
    return client


def test_today_list_shows_selection_to_collector(client, collector, todays):
    response = _client(client, collector).get(TODAY_URL)
    assert response.status_code == 200
    assert todays.patient.display_name in response.content.decode()
    assert response.context["data"].counts["pending"] == 1


@pytest.mark.parametrize("role", ["director", "nurse", "frontdesk", "counselor"])
def test_today_list_open_to_roles(client, request, role, todays):
    user = request.getfixturevalue(role)
    assert _client(client, user).get(TODAY_URL).status_code == 200


def test_today_list_hides_patients_outside_counselor_caseload(client, other_counselor, todays):
    response = _client(client, other_counselor).get(TODAY_URL)
    assert todays.patient.display_name not in response.content.decode()


def test_today_list_other_site_staff_get_404(client, outside_counselor, todays, site):
    response = _client(client, outside_counselor).get(TODAY_URL, {"site": site.pk})
    assert response.status_code == 404


def test_today_list_hidden_from_portal_patients(client, other_patient, todays):
    # core.access: a patient probing staff URLs gets a 404, not even a 403.
    response = _client(client, other_patient.user).get(TODAY_URL)
    assert response.status_code == 404
    assert todays.patient.display_name not in response.content.decode()


def _make_many(make_patient, n):
    for _ in range(n):
        make_patient()


@pytest.mark.parametrize("size", [2, 12])
def test_today_list_query_count_is_fixed(
    client, collector, make_patient, every_day, site, size, nine_am, django_assert_max_num_queries
):
    _make_many(make_patient, size)
    draw_run(site=site, now=nine_am)
    assert Selection.objects.count() == size
    _client(client, collector)
    client.get(TODAY_URL)  # the first page after login stores the viewer's zone in the session
    with django_assert_max_num_queries(9):
        response = client.get(TODAY_URL)
    assert len(response.context["data"].rows) == size


@pytest.mark.parametrize("size", [2, 12])
def test_today_list_query_count_for_medical_with_alerts(
    client, nurse, make_patient, every_day, site, size, nine_am, django_assert_max_num_queries
):
    _make_many(make_patient, size)
    draw_run(site=site, now=nine_am)
    _client(client, nurse)
    client.get(TODAY_URL)  # the first page after login stores the viewer's zone in the session
    with django_assert_max_num_queries(10):
        client.get(TODAY_URL)


COLLECT = {
    "specimen_type": "urine",
    "method": "poc",
    "observed": "on",
    "temperature_in_range": "yes",
    "validity": "valid",
    "chain_of_custody_id": "COC-100",
}


def test_collect_form_records_specimen(client, collector, todays):
    url = reverse("drugtests:collect", args=[todays.pk])
    response = _client(client, collector).post(url, COLLECT)
    assert response.status_code == 302
    specimen = Specimen.objects.get()
    assert (specimen.chain_of_custody_id, specimen.collected_by) == ("COC-100", collector)
    assert Selection.objects.get().status == "collected"


def test_collect_form_shows_error_for_out_of_range_temperature(client, collector, todays):
    url = reverse("drugtests:collect", args=[todays.pk])
    data = {**COLLECT, "temperature_in_range": "no", "validity": ""}
    response = _client(client, collector).post(url, data)
    assert response.status_code == 200
    assert "temperature was out of range" in response.content.decode()
    assert not Specimen.objects.exists()


def test_collect_other_site_staff_404(client, make_staff, other_site, todays):
    outsider = make_staff("collector_west", "collector", sites=[other_site])
    url = reverse("drugtests:collect", args=[todays.pk])
    assert _client(client, outsider).post(url, COLLECT).status_code == 404
    assert not Specimen.objects.exists()


def test_collect_forbidden_to_front_desk(client, frontdesk, todays):
    url = reverse("drugtests:collect", args=[todays.pk])
    assert _client(client, frontdesk).post(url, COLLECT).status_code == 403


def test_walk_in_collection_needs_reason(client, collector, patient, every_day):
    url = reverse("drugtests:collect_unselected")
    data = {**COLLECT, "patient": patient.pk, "for_cause_reason": ""}
    response = _client(client, collector).post(url, data)
    assert response.status_code == 200 and not Specimen.objects.exists()
    response = client.post(url, {**data, "for_cause_reason": "Slurred speech"})
    assert response.status_code == 302
    assert Selection.objects.get().kind == "for_cause"


def _collected(todays, collector):
    specimen_collect(
        actor=collector,
        selection=todays,
        chain_of_custody_id="C-7",
        method="lab",
        observed=True,
        temperature_in_range=True,
        validity="valid",
    )
    return todays


RESULT = {
    "source": "lab",
    "lab_name": "Acme Labs",
    "a_buprenorphine": "negative",
    "a_fentanyl": "negative",
    "a_cocaine": "not_tested",
}


def test_result_form_saves_results(client, nurse, collector, todays):
    _collected(todays, collector)
    url = reverse("drugtests:result", args=[todays.pk])
    response = _client(client, nurse).post(url, RESULT)
    assert response.status_code == 302
    result = TestResult.objects.get()
    assert result.source == "lab" and result.analytes.count() == 3


def test_result_form_forbidden_to_collector(client, collector, todays):
    _collected(todays, collector)
    url = reverse("drugtests:result", args=[todays.pk])
    assert _client(client, collector).post(url, RESULT).status_code == 403
    assert not TestResult.objects.exists()


def test_result_for_uncollected_redirects_without_saving(client, nurse, todays):
    url = reverse("drugtests:result", args=[todays.pk])
    response = _client(client, nurse).post(url, RESULT)
    assert response.status_code == 302 and not TestResult.objects.exists()


def test_selection_detail_other_site_404(client, outside_counselor, todays):
    url = reverse("drugtests:selection", args=[todays.pk])
    assert _client(client, outside_counselor).get(url).status_code == 404


def test_selection_detail_owner_counselor_sees_it(client, counselor, todays):
    url = reverse("drugtests:selection", args=[todays.pk])
    assert _client(client, counselor).get(url).status_code == 200


def test_draw_detail_shows_inputs_to_director_only(client, director, nurse, todays):
    draw = Draw.objects.get()
    url = reverse("drugtests:draw", args=[draw.pk])
    response = _client(client, director).get(url)
    assert response.status_code == 200 and draw.seed in response.content.decode()
    client.force_login(nurse)
    assert client.get(url).status_code == 403


def test_verify_page_reports_intact_chain(client, director, todays):
    response = _client(client, director).get(reverse("drugtests:verify"))
    assert "chain is intact" in response.content.decode()


def test_fairness_report_renders(client, nurse, todays):
    response = _client(client, nurse).get(reverse("drugtests:fairness"))
    assert response.status_code == 200
    assert "Every day" in response.content.decode()


def test_site_report_csv(client, nurse, todays):
    response = _client(client, nurse).get(reverse("drugtests:report"), {"format": "csv"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")
    assert response["Content-Disposition"].startswith(
        'attachment; filename="stepwise-drug-tests-north-'
    )
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("week_start,analyte,random_selected")
    assert any(",ALL,1," in line for line in lines[1:])


def test_site_report_other_site_404(client, outside_counselor, make_staff, other_site, site):
    outsider = make_staff("nurse_west", "medical", sites=[other_site])
    response = _client(client, outsider).get(reverse("drugtests:report"), {"site": site.pk})
    assert response.status_code == 404


def test_for_cause_view_creates_labelled_order(client, nurse, patient, every_day):
    url = reverse("drugtests:for_cause", args=[patient.pk])
    response = _client(client, nurse).post(url, {"reason": "Observed intoxicated"})
    assert response.status_code == 302
    assert Selection.objects.get().kind == "for_cause"


def test_for_cause_view_other_site_404(client, outside_counselor, patient, every_day):
    url = reverse("drugtests:for_cause", args=[patient.pk])
    assert _client(client, outside_counselor).post(url, {"reason": "x"}).status_code == 404
    assert not Selection.objects.exists()


# --- panels ------------------------------------------------------------------

NOTICE = "You have been selected for testing today. Report by 5:00 PM."


def test_portal_shows_notice_to_selected_patient(client, todays):
    response = _client(client, todays.patient.user).get(reverse("home"))
    assert NOTICE in response.content.decode()


def test_portal_shows_nothing_to_other_patient(client, todays, other_patient):
    # Admitted after today's draw, so not selected; sees no notice and no other patient's.
    assert not other_patient.test_selections.exists()
    response = _client(client, other_patient.user).get(reverse("home"))
    assert "selected for testing" not in response.content.decode()


def test_portal_notice_only_on_the_test_day(todays):
    from drugtests.panels import portal_home

    assert portal_home(None, todays.patient) is not None
    Selection.objects.filter(pk=todays.pk).update(date=todays.date - timedelta(days=1))
    assert portal_home(None, todays.patient) is None


def test_portal_notice_gone_once_collected(todays, collector):
    from drugtests.panels import portal_home

    _collected(todays, collector)
    assert portal_home(None, todays.patient) is None


@pytest.mark.parametrize("size", [1, 8])
def test_chart_panel_fixed_queries(
    rf_staff, patient, every_day, site, size, django_assert_max_num_queries
):
    from drugtests.panels import chart
    from drugtests.services.collection import for_cause_order

    for i in range(size):
        for_cause_order(actor=rf_staff.user, patient=patient, reason=f"reason {i}")
    with django_assert_max_num_queries(1):
        panel = chart(rf_staff, patient)
    assert len(panel.context["rows"]) == size


@pytest.mark.parametrize("size", [1, 8])
def test_staff_home_panel_fixed_queries(
    rf_staff, make_patient, every_day, site, size, nine_am, django_assert_max_num_queries
):
    from drugtests.panels import staff_home

    _make_many(make_patient, size)
    draw_run(site=site, now=nine_am)
    with django_assert_max_num_queries(2):
        panel = staff_home(rf_staff, [site])
    assert panel.context["counts"]["pending"] == size


@pytest.fixture
def rf_staff(nurse):
    request = RequestFactory().get("/")
    request.user = nurse
    return request


def test_admin_refuses_to_change_or_delete_draws(rf_staff):
    draw_admin = admin.site._registry[Draw]
    assert not draw_admin.has_change_permission(rf_staff)
    assert not draw_admin.has_delete_permission(rf_staff)
    assert not draw_admin.has_add_permission(rf_staff)


@pytest.mark.parametrize("size", [1, 6])
def test_portal_panel_fixed_queries(todays, nurse, size, django_assert_max_num_queries):
    from drugtests.panels import portal_home
    from drugtests.services.collection import for_cause_order

    for i in range(size):
        for_cause_order(actor=nurse, patient=todays.patient, reason=f"reason {i}")
    with django_assert_max_num_queries(1):
        panel = portal_home(None, todays.patient)
    assert panel.context["report_by"] == "Report by 5:00 PM."
