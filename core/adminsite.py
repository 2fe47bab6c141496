"""The Django admin's site: superusers only.

The admin edits reference data and shows raw clinical rows outside the staff screens'
per-object access rules, so it is kept to the few accounts trusted with everything
(``is_superuser``); clinic staff, directors included, work in the staff screens. Every
write there and every look at patient data writes an audit row (``core.admin``).
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest


class StepwiseAdminSite(admin.AdminSite):
    site_header = "Stepwise administration"
    site_title = "Stepwise admin"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff and user.is_superuser)
