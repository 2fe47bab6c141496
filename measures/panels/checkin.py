"""The portal home's "You have a short check-in to complete" while one is open."""

from __future__ import annotations

from core.access import UserRequest
from core.panels import Panel, register
from patients.models import Patient

from ..selectors.checkin import open_checkins


@register("portal_home", order=8)
def portal_home(request: UserRequest, patient: Patient) -> Panel | None:
    first = open_checkins(patient).first()
    if first is None:
        return None
    return Panel(template="measures/panels/checkin_portal_home.html", context={"checkin": first})
