"""The navigation and the home panels offer a role only links its views let in (issue 21:
the collector's home linked the caseload, which answers 403 to a collector)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.test import Client

from core.access import may_open
from tests.hostile.walker import PageParser

ROLES = ("director", "counselor", "nurse", "frontdesk", "collector", "patient")
# Signing out ends the session; the admin is Django's own (is_staff users only).
NOT_FOLLOWED = ("/accounts/logout/", "/admin/", "/static/")


@pytest.fixture
def users(director, counselor, nurse, frontdesk, collector, patient):
    return {
        "director": director,
        "counselor": counselor,
        "nurse": nurse,
        "frontdesk": frontdesk,
        "collector": collector,
        "patient": patient.user,
    }


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_may_open_refuses_the_caseload_to_a_collector(collector):
    assert may_open(collector, "patients:caseload") is False


def test_may_open_lets_a_counselor_open_the_caseload(counselor):
    assert may_open(counselor, "patients:caseload") is True


def test_may_open_reads_the_rule_of_a_route_that_takes_arguments(counselor, collector):
    assert may_open(counselor, "patients:hold") is True
    assert may_open(collector, "patients:hold") is False


def test_may_open_keeps_staff_pages_from_a_patient_and_portal_pages_from_staff(patient, counselor):
    assert may_open(patient.user, "patients:caseload") is False
    assert may_open(patient.user, "scheduling:portal_schedule") is True
    assert may_open(counselor, "scheduling:portal_schedule") is False


def test_may_open_offers_no_name_that_does_not_resolve(counselor):
    assert may_open(counselor, "patients:no_such_page") is False


@pytest.mark.django_db
def test_may_open_offers_nothing_to_an_anonymous_user():
    from django.contrib.auth.models import AnonymousUser

    assert may_open(AnonymousUser(), "home") is False


@pytest.mark.parametrize("role", ROLES)
def test_every_nav_link_of_every_role_leads_to_a_page(users, role):
    client = _client(users[role])
    home = client.get("/")
    assert home.status_code == 200
    items = [*home.context["nav_items"], *home.context.get("nav_more", [])]
    assert items, f"{role} is offered no navigation"
    # Followed: the backup codes send a user without two-step verification to set it up.
    answers = {item["url"]: client.get(item["url"], follow=True).status_code for item in items}
    assert {url: status for url, status in answers.items() if status != 200} == {}


@pytest.mark.parametrize("role", ROLES)
def test_no_link_on_a_roles_home_page_answers_403(users, role):
    client = _client(users[role])
    home = client.get("/")
    parser = PageParser("/")
    parser.feed(home.content.decode())
    links = {
        urlsplit(link).path
        for link in parser.links
        if urlsplit(link).netloc in ("", "testserver")
        and not any(urlsplit(link).path.startswith(p) for p in NOT_FOLLOWED)
    }
    assert links
    refused = sorted(link for link in links if client.get(link).status_code == 403)
    assert refused == []


def test_a_collectors_home_offers_no_caseload_link(collector):
    from django.urls import reverse

    home = _client(collector).get("/")
    assert home.status_code == 200
    assert f'href="{reverse("patients:caseload")}"' not in home.content.decode()
