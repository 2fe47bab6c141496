"""An htmx request whose session has ended leaves the page for the login page (HX-Redirect)
instead of swapping the login page into the fragment it targets (issue #16: "An htmx
request after the idle timeout puts the login page inside the attendance row")."""

import time
from datetime import timedelta
from urllib.parse import quote

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from privacy.signals import AUTH_AT

PAGE = "/scheduling/sessions/7/"


def _idle_past_the_limit():
    # Move the suite's frozen clock on past the idle limit: the session row expires.
    return time_machine.travel(
        timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE + 1), tick=True
    )


def _htmx_post(client, current_url: str | None = "http://testserver" + PAGE, **extra):
    headers = {"HTTP_HX_REQUEST": "true", **extra}
    if current_url is not None:
        headers["HTTP_HX_CURRENT_URL"] = current_url
    return client.post(reverse("home"), {}, **headers)


@pytest.fixture
def signed_in(client, counselor):
    client.force_login(counselor)
    assert client.get(reverse("home")).status_code == 200
    return client


def test_htmx_request_after_idle_timeout_is_told_to_load_the_login_page(signed_in):
    with _idle_past_the_limit():
        response = _htmx_post(signed_in)
    assert response.status_code == 200
    assert response["HX-Redirect"] == f"{reverse('login')}?next={quote(PAGE, safe='')}"
    # Nothing for htmx to swap into the row.
    assert b"<form" not in response.content and "Location" not in response


def test_next_keeps_the_query_string_of_the_page(signed_in):
    with _idle_past_the_limit():
        response = _htmx_post(signed_in, "http://testserver/dashboard/?week=2026-11-16&sort=-name")
    target = quote("/dashboard/?week=2026-11-16&sort=-name", safe="")
    assert response["HX-Redirect"] == f"{reverse('login')}?next={target}"


def test_plain_request_after_idle_timeout_is_still_a_302(signed_in):
    with _idle_past_the_limit():
        response = signed_in.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert "HX-Redirect" not in response


@pytest.mark.parametrize(
    "current_url",
    [
        "https://evil.example/scheduling/sessions/7/",  # another host
        "http://testserver//evil.example/x",  # a path a browser reads as another host
        "javascript:alert(1)",
        "not a url",
        "",
        None,  # no HX-Current-URL header at all
    ],
)
def test_a_page_url_that_is_not_ours_gives_a_login_without_next(signed_in, current_url):
    with _idle_past_the_limit():
        response = _htmx_post(signed_in, current_url)
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("login")


def test_htmx_request_after_the_absolute_lifetime_is_redirected_the_same_way(signed_in):
    session = signed_in.session
    session[AUTH_AT] = time.time() - settings.SESSION_ABSOLUTE_SECONDS - 1
    session.save()
    response = _htmx_post(signed_in)
    assert response.status_code == 200
    assert response["HX-Redirect"] == f"{reverse('login')}?next={quote(PAGE, safe='')}"
    assert "_auth_user_id" not in signed_in.session


def test_htmx_request_of_a_signed_in_user_is_untouched(signed_in):
    response = signed_in.get(reverse("home"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "HX-Redirect" not in response


def test_htmx_request_that_was_never_signed_in_is_redirected_too(client, db):
    response = _htmx_post(client)
    assert response["HX-Redirect"] == f"{reverse('login')}?next={quote(PAGE, safe='')}"
