"""core.sitechoice: the last site a staff member chose, kept in their session."""

import pytest
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpResponse
from django.test import RequestFactory

from core import sitechoice

pytestmark = pytest.mark.django_db


@pytest.fixture
def request_with_session():
    request = RequestFactory().get("/")
    SessionMiddleware(lambda r: HttpResponse()).process_request(request)
    return request


def test_a_remembered_site_is_recalled(request_with_session, site, other_site):
    sitechoice.remember(request_with_session, other_site)
    assert sitechoice.recall(request_with_session, [site, other_site]) == other_site


def test_nothing_remembered_recalls_nothing(request_with_session, site):
    assert sitechoice.recall(request_with_session, [site]) is None


def test_a_site_no_longer_offered_is_ignored(request_with_session, site, other_site):
    sitechoice.remember(request_with_session, other_site)
    assert sitechoice.recall(request_with_session, [site]) is None


def test_a_planted_value_is_ignored(request_with_session, site):
    request_with_session.session[sitechoice.SESSION_KEY] = str(site.pk)
    assert sitechoice.recall(request_with_session, [site]) is None


def test_the_latest_choice_wins(request_with_session, site, other_site):
    sitechoice.remember(request_with_session, other_site)
    sitechoice.remember(request_with_session, site)
    assert sitechoice.recall(request_with_session, [site, other_site]) == site
