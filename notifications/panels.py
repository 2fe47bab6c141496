from __future__ import annotations

from django.conf import settings

from core.access import UserRequest
from core.models import Site
from core.panels import Panel, register
from patients.models import Patient

from . import selectors


@register("portal_home", order=20)
def portal_home(request: UserRequest, patient: Patient) -> Panel | None:
    """Unread count and the latest few notifications: two queries whatever the size."""
    latest = list(selectors.inbox_for(request.user)[:3])
    return Panel(
        template="notifications/_portal_panel.html",
        context={
            "unread": selectors.unread_count(request.user),
            "latest": latest,
            "tzname": patient.site.time_zone,
        },
    )


@register("staff_home", order=15)
def staff_home(request: UserRequest, sites: list[Site]) -> Panel | None:
    """A staff member's own alerts and digest notices: two queries whatever the size."""
    latest = list(selectors.inbox_for(request.user)[:5])
    if not latest:
        return None
    return Panel(
        template="notifications/_staff_panel.html",
        context={
            "unread": selectors.unread_count(request.user),
            "latest": latest,
            "tzname": sites[0].time_zone if sites else settings.DEFAULT_SITE_TIME_ZONE,
        },
    )
