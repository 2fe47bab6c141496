"""Every route, walked from the URLconf, refuses anonymous users and names its rule.

A new view that forgets its access rule fails here before it ships.
"""

import pytest
from django.urls import reverse

from .urlwalk import dummy_kwargs, iter_routes

# Routes anyone may open, each with the reason. Pinned: adding one is a reviewed change.
PUBLIC = {
    "login": "the login page",
    "privacy:password_reset": (
        "asking for a reset link: the same answer whether or not the address has an account"
    ),
    "privacy:password_reset_done": "says only that a link was sent if the address is known",
    "privacy:password_reset_confirm": (
        "opened from the emailed link; refuses unless its signed, one-use, 1-hour token checks"
    ),
    "privacy:password_reset_complete": "says only that the password was set",
    "healthz": "the orchestrator's probe; reveals only up/down",
    "scheduling:ical_feed": (
        "calendar apps cannot log in: a revocable secret token in the URL, and the feed "
        "names no program, track or diagnosis"
    ),
    "labs:inbound": (
        "a laboratory's interface engine cannot log in: the bearer token of the interface "
        "in the path (kept only as a hash) authenticates each post; a bad or missing one is "
        "a 401 that stores nothing"
    ),
    "notifications:sms_inbound": (
        "the SMS provider's webhook cannot log in: the provider's signature authenticates "
        "each post, it is off when no secret is set, and it records only STOP/START keywords"
    ),
}
# Routes open to any signed-in account, each with the reason.
ANY_SIGNED_IN = {
    "home": "dispatches to the staff home or the portal home, each with its own rule",
    "logout": "anyone signed in may sign out",
    "privacy:session_renew": "renews the caller's own session; reads and changes no record",
    "privacy:password_change": "anyone signed in may change their own password",
    "privacy:password_change_done": "confirms the change to the one who made it",
}
# Views whose rule is enforced by the framework that owns them.
FRAMEWORK = {"admin": "Django admin: superusers only (core.adminsite), checked by the site"}


def app_routes():
    return [r for r in iter_routes() if r.name.split(":")[0] not in FRAMEWORK]


def test_public_allowlist_is_exactly_the_routes_without_login():
    open_routes = {
        r.name for r in app_routes() if getattr(r.callback, "login_required", True) is False
    }
    # Class-based views mark the class, not the function the URLconf holds.
    for r in app_routes():
        view_class = getattr(r.callback, "view_class", None)
        if view_class is not None and getattr(r.callback, "login_required", True) is False:
            open_routes.add(r.name)
    assert open_routes == set(PUBLIC)


def test_every_view_names_its_access_rule():
    missing = [
        r.name
        for r in app_routes()
        if r.name not in PUBLIC
        and r.name not in ANY_SIGNED_IN
        and not hasattr(r.callback, "access_rule")
    ]
    assert missing == []


@pytest.mark.django_db
def test_every_route_refuses_anonymous_users(client):
    login_url = reverse("login")
    checked = 0
    for route in app_routes():
        if route.name in PUBLIC:
            continue
        url = reverse(route.name, kwargs=dummy_kwargs(route))
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            ok = response.status_code in (401, 403, 404) or (
                response.status_code == 302 and response.url.startswith(login_url)
            )
            assert ok, f"{method.upper()} {url} ({route.name}) gave {response.status_code}"
        checked += 1
    assert checked >= 5


@pytest.mark.django_db
def test_admin_refuses_anonymous_users(client):
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response.url
