"""The CM dashboard: rewards due (largest first), unreconciled rewards (oldest first),
episodes ending soon, every active episode's balance and step; a query count that does not
grow with the number of episodes."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contingency.services.ledger import reward_issue

from . import _screens_fixtures as fx

D = Decimal


@pytest.fixture
def cm_program(site):
    return fx.make_program(site)


def enrolled(make_patient, cm_program, counselor, today, amounts, *, ends_in=None):
    patient = make_patient()
    episode = fx.enrol(
        patient,
        cm_program,
        counselor,
        starts_on=today - timedelta(days=40),
        ends_on=today + timedelta(days=ends_in) if ends_in is not None else None,
    )
    fx.earn_run(episode, today - timedelta(days=38), amounts)
    return episode


def test_rewards_due_come_largest_first(client, counselor, make_patient, cm_program, today):
    small = enrolled(make_patient, cm_program, counselor, today, ["10.00"])
    large = enrolled(make_patient, cm_program, counselor, today, ["10.00", "11.50"])
    enrolled(make_patient, cm_program, counselor, today, [])
    client.force_login(counselor)
    data = client.get(reverse("contingency:dashboard")).context["data"]
    assert [(r.episode, r.balance) for r in data.due] == [(large, D("21.50")), (small, D("10.00"))]
    assert len(data.episodes) == 3
    assert {r.episode.pk: r.step for r in data.episodes}[large.pk] == 3
    assert data.due_total == D("31.50")


def test_unreconciled_rewards_come_oldest_first(
    client, counselor, make_patient, cm_program, today, test_now
):
    a = enrolled(make_patient, cm_program, counselor, today, ["10.00", "11.50"])
    first = reward_issue(
        actor=counselor,
        cm_enrollment=a,
        amount=D("5"),
        reward_ref="A-1",
        now=test_now - timedelta(days=3),
    )
    second = reward_issue(actor=counselor, cm_enrollment=a, amount=D("5"), reward_ref="A-2")
    client.force_login(counselor)
    response = client.get(reverse("contingency:dashboard"))
    assert response.context["data"].unreconciled == [first, second]
    assert "A-1" in response.content.decode()


def test_episodes_ending_within_two_weeks(client, counselor, make_patient, cm_program, today):
    soon = enrolled(make_patient, cm_program, counselor, today, [], ends_in=10)
    enrolled(make_patient, cm_program, counselor, today, [], ends_in=30)
    client.force_login(counselor)
    data = client.get(reverse("contingency:dashboard")).context["data"]
    assert [r.episode for r in data.ending] == [soon]


def test_a_counselor_sees_only_their_patients(
    client, counselor, other_counselor, make_patient, cm_program, today
):
    enrolled(make_patient, cm_program, counselor, today, ["10.00"])
    client.force_login(other_counselor)
    data = client.get(reverse("contingency:dashboard")).context["data"]
    assert data.episodes == [] and data.due == []


def test_staff_of_another_site_see_nothing(
    client, outside_counselor, counselor, make_patient, cm_program, today
):
    enrolled(make_patient, cm_program, counselor, today, ["10.00"])
    client.force_login(outside_counselor)
    data = client.get(reverse("contingency:dashboard")).context["data"]
    assert data.episodes == []


def test_the_nav_links_staff_to_the_dashboard(client, counselor, collector):
    client.force_login(counselor)
    assert reverse("contingency:dashboard") in client.get(reverse("home")).content.decode()
    client.force_login(collector)
    assert reverse("contingency:dashboard") not in client.get(reverse("home")).content.decode()


def test_the_query_count_does_not_grow_with_the_episodes(
    client, director, counselor, make_patient, cm_program, today, django_assert_num_queries
):
    client.force_login(director)
    url = reverse("contingency:dashboard")
    counts = []
    for size in (3, 30):
        while cm_program.enrollments.count() < size:
            episode = enrolled(make_patient, cm_program, counselor, today, ["10.00"])
            reward_issue(
                actor=counselor, cm_enrollment=episode, amount=D("5"), reward_ref=f"R{episode.pk}"
            )
        client.get(url)  # the session's first page writes what later pages only read
        with CaptureQueriesContext(connection) as seen:
            assert client.get(url).status_code == 200
        counts.append(len(seen))
    # Session and user (2), the director's sites, the episodes with their last line's
    # state, the rewards not reconciled, the nav's site settings: measured 6.
    assert counts == [6, 6]
    with django_assert_num_queries(counts[0]):
        client.get(url)
