import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from .signals import AUTH_AT

RENEWED_AT = "stepwise_renewed_at"
# Every answer to a signed-in user says how long the session has left, so the page's
# countdown (static/js/session.js) follows requests htmx makes without a page load.
SECONDS_LEFT_HEADER = "X-Session-Seconds-Left"


def session_seconds_left(session: SessionBase, now: float | None = None) -> int:
    """Seconds until the session ends: the idle limit counted from its last save, capped
    by the absolute limit counted from login."""
    now = time.time() if now is None else now
    idle_end = session.get(RENEWED_AT, now) + settings.SESSION_COOKIE_AGE
    absolute_end = session.get(AUTH_AT, now) + settings.SESSION_ABSOLUTE_SECONDS
    return max(0, int(min(idle_end, absolute_end) - now))


def session_renew(session: SessionBase, now: float | None = None) -> None:
    # Saving the session is what renews it: Django writes a new expiry on every save.
    session[RENEWED_AT] = time.time() if now is None else now


class SessionLifetimeMiddleware:
    """End a signed-in session 12 hours after login, however active it has been, and
    renew the idle limit (the session age) on activity, at most once a minute."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        now = time.time()
        if user is not None and user.is_authenticated:
            started = request.session.get(AUTH_AT)
            if started is None or now - started > settings.SESSION_ABSOLUTE_SECONDS:
                logout(request)
                messages.info(request, "Your session has ended. Please log in again.")
                return redirect(f"{reverse('login')}?next={request.path}")
            if now - request.session.get(RENEWED_AT, 0) > settings.SESSION_RENEW_SECONDS:
                session_renew(request.session, now)

        response = self.get_response(request)
        user = getattr(request, "user", None)  # the view may have logged someone in or out
        if user is not None and user.is_authenticated:
            if request.session.modified:
                # Whatever saved the session (a message, the viewer's clock) renewed it
                # too; the countdown must not end before the session does.
                session_renew(request.session, now)
            response[SECONDS_LEFT_HEADER] = str(session_seconds_left(request.session, now))
        return response


class MFARequiredMiddleware:
    """Staff and superusers must pass a TOTP check after their password when
    STEPWISE_REQUIRE_MFA is on."""

    EXEMPT_PREFIXES = ("/privacy/mfa/", "/accounts/logout/", "/healthz", "/static/")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.STEPWISE_REQUIRE_MFA:
            user = request.user
            if (
                user.is_authenticated
                and user.needs_second_factor
                # is_verified is put on the user by django_otp's OTPMiddleware, before this.
                and not user.is_verified()  # type: ignore[attr-defined]
                and not request.path.startswith(self.EXEMPT_PREFIXES)
            ):
                return redirect(f"{reverse('privacy:mfa')}?next={request.path}")
        return self.get_response(request)
