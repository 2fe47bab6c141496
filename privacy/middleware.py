import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from .signals import AUTH_AT

RENEWED_AT = "stepwise_renewed_at"


class SessionLifetimeMiddleware:
    """End a signed-in session 12 hours after login, however active it has been, and
    renew the idle limit (the session age) on activity, at most once a minute."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            started = request.session.get(AUTH_AT)
            now = time.time()
            if started is None or now - started > settings.SESSION_ABSOLUTE_SECONDS:
                logout(request)
                messages.info(request, "Your session has ended. Please log in again.")
                return redirect(f"{reverse('login')}?next={request.path}")
            if now - request.session.get(RENEWED_AT, 0) > settings.SESSION_RENEW_SECONDS:
                request.session[RENEWED_AT] = now  # saving renews the expiry

        return self.get_response(request)


class MFARequiredMiddleware:
    """Staff must pass a TOTP check after their password when STEPWISE_REQUIRE_MFA is on."""

    EXEMPT_PREFIXES = ("/privacy/mfa/", "/accounts/logout/", "/healthz", "/static/")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.STEPWISE_REQUIRE_MFA:
            user = request.user
            if (
                user.is_authenticated
                and user.is_clinic_staff
                # is_verified is put on the user by django_otp's OTPMiddleware, before this.
                and not user.is_verified()  # type: ignore[attr-defined]
                and not request.path.startswith(self.EXEMPT_PREFIXES)
            ):
                return redirect(f"{reverse('privacy:mfa')}?next={request.path}")
        return self.get_response(request)
