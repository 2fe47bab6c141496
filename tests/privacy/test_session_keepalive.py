"""The warning before the idle log-off: pages tell the browser how long the session has
left, and "Stay signed in" renews it through a small POST endpoint."""

import json
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from privacy.middleware import RENEWED_AT
from privacy.signals import AUTH_AT

RENEW = reverse("privacy:session_renew")


def _age_session(client, *, renewed_ago: float, expires_in: float) -> None:
    """As if the last renewal was ``renewed_ago`` seconds back (so a request now does not
    renew it again) and the row expires in ``expires_in`` seconds."""
    session = client.session
    session[RENEWED_AT] = time.time() - renewed_ago
    session.save()
    Session.objects.update(expire_date=timezone.now() + timedelta(seconds=expires_in))


def test_stay_signed_in_renews_the_session(client, counselor):
    client.force_login(counselor)
    _age_session(client, renewed_ago=30, expires_in=60)
    response = client.post(RENEW)
    assert response.status_code == 200
    assert json.loads(response.content)["seconds_left"] == settings.SESSION_COOKIE_AGE
    expiry = Session.objects.get().expire_date
    assert expiry > timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE - 5)


def test_an_ordinary_request_inside_the_minute_does_not_renew(client, counselor):
    # The control for the test above: only the endpoint extended the session there.
    client.force_login(counselor)
    _age_session(client, renewed_ago=30, expires_in=60)
    client.get(reverse("home"))
    assert Session.objects.get().expire_date < timezone.now() + timedelta(seconds=61)


def test_renewal_needs_a_post(client, counselor):
    client.force_login(counselor)
    assert client.get(RENEW).status_code == 405


def test_renewal_needs_the_csrf_token(counselor):
    client = Client(enforce_csrf_checks=True)
    client.force_login(counselor)
    _age_session(client, renewed_ago=30, expires_in=60)
    assert client.post(RENEW).status_code == 403
    assert Session.objects.get().expire_date < timezone.now() + timedelta(seconds=61)


def test_an_ended_session_cannot_be_renewed(client, counselor):
    client.force_login(counselor)
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.post(RENEW)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_renewal_stops_at_the_absolute_lifetime(client, counselor):
    client.force_login(counselor)
    session = client.session
    session[AUTH_AT] = time.time() - settings.SESSION_ABSOLUTE_SECONDS + 100
    session.save()
    seconds_left = json.loads(client.post(RENEW).content)["seconds_left"]
    assert 95 <= seconds_left <= 100


def test_page_tells_the_browser_how_long_the_session_has_left(client, counselor):
    client.force_login(counselor)
    _age_session(client, renewed_ago=30, expires_in=settings.SESSION_COOKIE_AGE - 30)
    page = client.get(reverse("home"))
    timer = page.context["session_seconds_left"]
    assert settings.SESSION_COOKIE_AGE - 32 <= timer <= settings.SESSION_COOKIE_AGE - 30
    assert f'data-seconds-left="{timer}"' in page.content.decode()
    assert 'src="/static/js/session.js"' in page.content.decode()


def test_htmx_answers_carry_the_seconds_left(client, counselor):
    client.force_login(counselor)
    response = client.get(reverse("home"), HTTP_HX_REQUEST="true")
    assert int(response["X-Session-Seconds-Left"]) == settings.SESSION_COOKIE_AGE


def test_a_session_saved_for_another_reason_counts_as_renewed(client, counselor):
    """Django extends the expiry whenever it saves the session; the countdown follows, or
    the browser would log off a session the server still holds."""
    client.force_login(counselor)
    _age_session(client, renewed_ago=30, expires_in=settings.SESSION_COOKIE_AGE - 30)
    session = client.session
    # The next request stores the viewer's clock again (core.middleware): a session write.
    session.pop("stepwise_tz", None)
    session.save()
    response = client.get(reverse("home"), HTTP_HX_REQUEST="true")
    assert int(response["X-Session-Seconds-Left"]) == settings.SESSION_COOKIE_AGE
    assert Session.objects.get().expire_date > timezone.now() + timedelta(
        seconds=settings.SESSION_COOKIE_AGE - 5
    )


@pytest.mark.parametrize("anonymous_page", ["login"])
def test_signed_out_pages_have_no_timer(client, db, anonymous_page):
    page = client.get(reverse(anonymous_page)).content.decode()
    assert "session.js" not in page and "data-seconds-left" not in page
