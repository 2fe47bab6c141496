"""The drug-test day list (issue #20): a page of the day's tests at a time, the whole
day's counts by status, a status filter, and a query count that does not grow with the
day's list."""

import pytest
from django.urls import reverse

from drugtests.models import Selection, TestingPolicy
from drugtests.services.random_draw import draw_run

pytestmark = pytest.mark.django_db
URL = reverse("drugtests:today")


@pytest.fixture(autouse=True)
def nine_am(pinned_clock):
    return pinned_clock


@pytest.fixture
def small_pages(monkeypatch):
    """Pages of 2, so a handful of patients makes several pages."""
    monkeypatch.setattr("drugtests.selectors.DAY_LIST_PAGE_SIZE", 2)
    return 2


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


@pytest.fixture
def day_of(make_patient, every_day, site, nine_am):
    """``n`` patients, all selected in today's draw; returns their selections by name."""

    def make(n: int) -> list[Selection]:
        for i in range(n):
            make_patient(last=f"Name{i:02d}")
        draw_run(site=site, now=nine_am)
        return list(Selection.objects.order_by("patient__legal_last_name"))

    return make


def _get(client, user, **params):
    client.force_login(user)
    return client.get(URL, params)


def test_day_list_shows_one_page_of_the_days_tests(client, collector, day_of, small_pages):
    day_of(5)
    response = _get(client, collector)
    data = response.context["data"]
    assert [s.patient.legal_last_name for s in data.rows] == ["Name00", "Name01"]
    assert data.page.paginator.num_pages == 3
    assert 'data-testid="today-pager"' in response.content.decode()


def test_day_list_last_page_holds_the_rest(client, collector, day_of, small_pages):
    day_of(5)
    data = _get(client, collector, page=3).context["data"]
    assert [s.patient.legal_last_name for s in data.rows] == ["Name04"]


def test_day_list_counts_the_whole_day_on_every_page(client, collector, day_of, small_pages):
    selections = day_of(5)
    Selection.objects.filter(pk__in=[selections[0].pk, selections[4].pk]).update(
        status=Selection.Status.COLLECTED
    )
    Selection.objects.filter(pk=selections[1].pk).update(status=Selection.Status.REFUSED)
    counts = _get(client, collector, page=2).context["data"].counts
    assert counts == {
        "pending": 2,
        "collected": 2,
        "missed": 0,
        "refused": 1,
        "excused": 0,
        "selected": 5,
    }


def test_day_list_filters_by_status(client, collector, day_of):
    selections = day_of(4)
    Selection.objects.filter(pk=selections[2].pk).update(status=Selection.Status.COLLECTED)
    data = _get(client, collector, status="collected").context["data"]
    assert [s.pk for s in data.rows] == [selections[2].pk]
    assert data.counts["selected"] == 4


def test_day_list_filter_pages_count_only_that_status(client, collector, day_of, small_pages):
    day_of(5)
    data = _get(client, collector, status="pending").context["data"]
    assert data.page.paginator.count == 5
    assert _get(client, collector, status="missed").context["data"].page.paginator.count == 0


def test_day_list_pager_links_keep_the_filter(client, collector, day_of, small_pages, site):
    day_of(5)
    page = _get(client, collector, site=site.pk, status="pending").content.decode()
    assert f"?site={site.pk}&amp;status=pending&amp;page=2" in page


def test_day_list_page_past_the_last_is_404(client, collector, day_of, small_pages):
    day_of(3)
    assert _get(client, collector, page=3).status_code == 404


def test_day_list_empty_day_has_its_first_page(client, collector, every_day):
    response = _get(client, collector)
    assert response.status_code == 200
    assert "Nobody is selected for testing today." in response.content.decode()


@pytest.mark.parametrize("page", ["abc", "0", "-1", "201", "9" * 40, "²"])
def test_day_list_bad_page_is_a_form_error(client, collector, day_of, small_pages, page):
    day_of(3)
    response = _get(client, collector, page=page)
    assert response.status_code == 200
    assert response.context["form"].errors["page"]
    assert response.context["data"].page.number == 1


@pytest.mark.parametrize("status", ["bogus", "PENDING", "x" * 500, "pending\x00"])
def test_day_list_bad_status_is_a_form_error(client, collector, day_of, status):
    day_of(2)
    response = _get(client, collector, status=status)
    assert response.status_code == 200
    assert response.context["form"].errors["status"]
    assert response.context["data"].counts["selected"] == len(response.context["data"].rows)


@pytest.mark.parametrize("value", ["²", "9" * 30, "1.5", "-1"])
def test_day_list_bad_site_is_404(client, collector, site, value):
    assert _get(client, collector, site=value).status_code == 404


def test_day_list_filter_hides_other_patients_from_a_counselor(client, other_counselor, day_of):
    day_of(3)
    data = _get(client, other_counselor, status="pending").context["data"]
    assert data.rows == []
    assert data.counts["selected"] == 0


@pytest.mark.parametrize("size", [3, 12])
def test_day_list_query_count_does_not_grow_with_the_day(
    client, collector, day_of, size, django_assert_num_queries, monkeypatch
):
    monkeypatch.setattr("drugtests.selectors.DAY_LIST_PAGE_SIZE", 5)
    day_of(size)
    client.force_login(collector)
    client.get(URL)  # the first page after login stores the viewer's zone in the session
    with django_assert_num_queries(7):
        response = client.get(URL, {"status": "pending"})
    assert len(response.context["data"].rows) == min(size, 5)
