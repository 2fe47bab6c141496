"""The portal home's link to the patient's rewards, while an episode is active (one
query: the episode with its balance)."""

from __future__ import annotations

from core.access import UserRequest
from core.panels import Panel, register
from patients.models import Patient

from ..models import CMEnrollment
from ..selectors.screens import ZERO, with_state


@register("portal_home", order=30)
def portal_home(request: UserRequest, patient: Patient) -> Panel | None:
    episode = with_state(
        CMEnrollment.objects.filter(patient=patient, status=CMEnrollment.Status.ACTIVE)
    ).first()
    if episode is None:
        return None
    return Panel(
        template="contingency/_portal_home.html",
        context={"episode": episode, "balance": getattr(episode, "last_balance", None) or ZERO},
    )
