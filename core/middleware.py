from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect

from . import formats
from .formviews import safe_path
from .models import Site, User

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'self'; object-src 'none'"
)


class SecurityHeadersMiddleware:
    """Pages may hold patient data: browsers and proxies must not keep a copy."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.static_prefix = "/" + settings.STATIC_URL.lstrip("/")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith(self.static_prefix):
            patch_cache_control(response, no_store=True, private=True)
            response.headers.setdefault("Content-Security-Policy", CSP)
        return response


SESSION_ZONE_KEY = "stepwise_tz"


def home_site(user: User) -> Site | None:
    """The site whose clock a person reads: a patient's own, else the first of a staff
    member's sites, else their organisation's first site."""
    patient = user.patient_record if user.staff is None else None
    if patient is not None:
        site: Site = patient.site
        return site
    if user.staff is not None:
        return (
            user.staff.sites.order_by("pk").first()
            or user.staff.organization.sites.order_by("pk").first()
        )
    return None


def remember_home_clock(session: SessionBase, user: User) -> list[Any]:
    site = home_site(user)
    stored = (
        [site.time_zone, site.clock_24h]
        if site is not None
        else [settings.DEFAULT_SITE_TIME_ZONE, False]
    )
    session[SESSION_ZONE_KEY] = stored
    return stored


class SiteTimezoneMiddleware:
    """Show and read every time in the viewer's site time zone (not the server's UTC),
    on the site's 12- or 24-hour clock.

    Both are looked up once per login and kept in the session, so a page costs no extra
    query for them. Pages about one site's objects (a specimen, a session) still read
    and show that site's time through ``core.forms.SiteDateTimeField`` and
    ``|timezone:site.time_zone``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        stored = request.session.get(SESSION_ZONE_KEY)
        if not isinstance(stored, list) or len(stored) != 2:
            stored = remember_home_clock(request.session, user)  # a session from before
        name, h24 = stored
        token = formats.clock_24h.set(bool(h24))
        try:
            with timezone.override(ZoneInfo(name)):
                return self.get_response(request)
        finally:
            formats.clock_24h.reset(token)


class HtmxLoginRedirectMiddleware:
    """An htmx request sent after the session ended (idle or absolute limit, or never
    signed in) must not swap the login page into the fragment it targets, an attendance
    row say: the redirect to the login page becomes ``HX-Redirect``, which makes htmx
    load the login page as the whole page, with ``next`` the page the person was on
    (``HX-Current-URL``), not the fragment's URL.

    The one place for every way a request is sent to the login page (Django's
    LoginRequiredMiddleware, privacy's session limits), so it sits outside them all in
    ``MIDDLEWARE``. It reads the header itself: django-htmx's middleware sits further in.
    """

    REDIRECTS = frozenset({301, 302, 303, 307, 308})

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.headers.get("HX-Request") != "true" or not self._to_login(response):
            return response
        login = resolve_url(settings.LOGIN_URL)
        page = self._current_page(request)
        target = f"{login}?{urlencode({REDIRECT_FIELD_NAME: page})}" if page else login
        return HttpResponseClientRedirect(target)

    def _to_login(self, response: HttpResponse) -> bool:
        if response.status_code not in self.REDIRECTS:
            return False
        return urlsplit(response.get("Location", "")).path == resolve_url(settings.LOGIN_URL)

    @staticmethod
    def _current_page(request: HttpRequest) -> str | None:
        """The path (and query) of the page htmx was sent from, if it is one of ours."""
        current = request.headers.get("HX-Current-URL", "")
        if not url_has_allowed_host_and_scheme(
            current, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return None
        parts = urlsplit(current)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        return safe_path(request, path)


class UserLanguageMiddleware:
    """Speak to a signed-in patient in their preferred language and to staff in English.

    After ``LocaleMiddleware`` (which answers the signed-out pages, the login page
    included, from the browser's language) and authentication. The patient's record is
    the one the portal's access check loads anyway (cached on the user), and the staff
    profile the one staff views load, so a page costs no extra query; the choice is read
    on every request, so a change made by staff on the demographics form applies at once.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        language = settings.LANGUAGE_CODE
        if user.staff is None:
            patient = user.patient_record
            if patient is not None:
                language = patient.preferred_language
        # An override, not activate: the thread (a test's, a worker's) is back in its own
        # language after the response, and Content-Language says which one answered.
        with translation.override(language):
            request.LANGUAGE_CODE = translation.get_language()
            response = self.get_response(request)
        response.headers["Content-Language"] = request.LANGUAGE_CODE
        return response
