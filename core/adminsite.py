"""The Django admin's site: superusers only.

The admin edits reference data and shows raw clinical rows outside the staff screens'
per-object access rules, so it is kept to the few accounts trusted with everything
(``is_superuser``); clinic staff, directors included, work in the staff screens. Every
write there and every look at patient data writes an audit row (``core.admin``).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest

from .forms import AdminLoginForm


class StepwiseAdminSite(admin.AdminSite):
    site_header = "Stepwise administration"
    site_title = "Stepwise admin"
    # The admin's login goes through the same lockout as the staff login (core/lockout.py).
    login_form = AdminLoginForm

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        if not (user.is_active and user.is_staff and user.is_superuser):
            return False
        # privacy's middleware sends an unverified superuser to the second step first;
        # this holds if that middleware is ever left out. is_verified comes from
        # django_otp's OTPMiddleware.
        return not settings.STEPWISE_REQUIRE_MFA or bool(user.is_verified())  # type: ignore[attr-defined]
