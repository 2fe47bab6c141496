"""The patient's rewards page and its portal home card: plain words, the patient's own
episode only, staff kept out."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from contingency.services.ledger import reward_issue

from . import _screens_fixtures as fx

D = Decimal


@pytest.fixture
def cm_program(site):
    return fx.make_program(site)


@pytest.fixture
def cm_episode(patient, cm_program, counselor, today):
    episode = fx.enrol(patient, cm_program, counselor, starts_on=today - timedelta(days=30))
    fx.earn_run(episode, today - timedelta(days=28), ["10.00", "11.50", "13.00"])
    return episode


def test_the_patient_reads_step_next_amount_and_balance(client, patient, cm_episode, counselor):
    reward_issue(actor=counselor, cm_enrollment=cm_episode, amount=D("2.50"), reward_ref="GC-9")
    client.force_login(patient.user)
    page = client.get(reverse("contingency:mine")).content.decode()
    assert "Your current step: 4" in page
    assert "Your next negative test earns $14.50" in page
    assert "Your balance: $32.00" in page
    assert "step 3, earned $13.00" in page
    assert "$2.50" in page  # rewards received
    # The patient's words name no analyte and no card number of the clinic's books.
    assert "stimulants" not in page


def test_the_portal_home_links_to_the_rewards(client, patient, cm_episode):
    client.force_login(patient.user)
    page = client.get(reverse("home")).content.decode()
    assert reverse("contingency:mine") in page
    assert "Your balance: $34.50" in page


def test_no_card_without_an_active_episode(client, patient, cm_program):
    client.force_login(patient.user)
    assert reverse("contingency:mine") not in client.get(reverse("home")).content.decode()
    page = client.get(reverse("contingency:mine")).content.decode()
    assert "You are not taking part in a rewards program." in page


def test_another_patient_sees_nothing_of_theirs(client, other_patient, cm_episode):
    client.force_login(other_patient.user)
    response = client.get(reverse("contingency:mine"))
    assert response.status_code == 200
    assert response.context["episode"] is None
    assert "$34.50" not in response.content.decode()


def test_staff_are_refused(client, counselor, cm_episode):
    client.force_login(counselor)
    assert client.get(reverse("contingency:mine")).status_code == 403


def test_the_page_query_count_is_fixed(client, patient, cm_episode, django_assert_max_num_queries):
    client.force_login(patient.user)
    with django_assert_max_num_queries(20):
        assert client.get(reverse("contingency:mine")).status_code == 200
