"""The portal home's link to the patient's rewards, while an episode is active."""

from __future__ import annotations

from core.access import UserRequest
from core.panels import Panel, register
from patients.models import Patient

from ..models import CMEnrollment
from ..selectors.ledger import episode_state


@register("portal_home", order=30)
def portal_home(request: UserRequest, patient: Patient) -> Panel | None:
    episode = (
        CMEnrollment.objects.filter(patient=patient, status=CMEnrollment.Status.ACTIVE)
        .select_related("program__site")
        .first()
    )
    if episode is None:
        return None
    return Panel(
        template="contingency/_portal_home.html",
        context={"episode": episode, "state": episode_state(episode)},
    )
