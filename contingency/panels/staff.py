"""The chart's CM card: the patient's episode (step, what the next qualifying result
earns, balance, totals against the caps) or, without one, enrolment in the site's
program. One query without an episode; four with one (the episode, and the ledger
state's last entry and year total)."""

from __future__ import annotations

from django.db.models import OuterRef, Q, Subquery

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
    active = CMEnrollment.objects.filter(patient=patient, status=CMEnrollment.Status.ACTIVE)
    # The site's active programs and the one the patient is on, in one query: most charts
    # have no episode, and then this is the panel's only query.
    programs = list(
        Program.objects.filter(
            Q(site_id=patient.site_id, is_active=True) | Q(pk__in=active.values("program_id"))
        )
        .annotate(episode_pk=Subquery(active.filter(program=OuterRef("pk")).values("pk")[:1]))
        .select_related("site")
        .order_by("name", "pk")
    )
    on = next((p for p in programs if p.episode_pk is not None), None)
    if on is not None:
        episode = CMEnrollment.objects.get(pk=on.episode_pk)
        episode.program = on
        return Panel(
            template="contingency/_chart.html",
            context={"patient": patient, "episode": episode, "state": episode_state(episode)},
        )
    if not programs:
        return None
    return Panel(
        template="contingency/_chart.html",
        context={"patient": patient, "episode": None, "program": programs[0]},
    )
