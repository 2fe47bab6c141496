"""The director's staff home lists every open safety follow-up of the organisation: the
director has no alert queue (dashboard), and oversees that each is done the same day."""

from __future__ import annotations

from core.access import UserRequest
from core.models import Role, Site
from core.panels import Panel, register

from ..selectors.safety import OPEN_SHOWN, open_safety_events


@register("staff_home", order=2)
def staff_home(request: UserRequest, sites: list[Site]) -> Panel | None:
    if request.user.role != Role.DIRECTOR:
        return None
    events = open_safety_events(request.user)
    if not events:
        return None
    return Panel(
        template="measures/panels/safety_staff_home.html",
        context={"events": events, "capped": len(events) == OPEN_SHOWN},
    )
