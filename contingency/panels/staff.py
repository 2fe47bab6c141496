"""The chart's CM card: the patient's episode (step, what the next qualifying result
earns, balance, totals against the caps) or, without one, enrolment in the site's
program. Fixed query count."""

from __future__ import annotations

from core.access import UserRequest
from core.panels import Panel, register
from patients.models import Patient

from ..models import CMEnrollment, Program
from ..selectors.ledger import episode_state
from ..selectors.screens import CM_ROLES


@register("chart", order=45)
def chart(request: UserRequest, patient: Patient) -> Panel | None:
    if request.user.role not in CM_ROLES:
        return None
    episode = (
        CMEnrollment.objects.filter(patient=patient, status=CMEnrollment.Status.ACTIVE)
        .select_related("program")
        .first()
    )
    if episode is not None:
        return Panel(
            template="contingency/_chart.html",
            context={"patient": patient, "episode": episode, "state": episode_state(episode)},
        )
    program = (
        Program.objects.filter(site_id=patient.site_id, is_active=True).order_by("name").first()
    )
    if program is None:
        return None
    return Panel(
        template="contingency/_chart.html",
        context={"patient": patient, "episode": None, "program": program},
    )
