"""Panels for plans: the chart's plan card (clinicians only: front desk and collectors
see no clinical content) and the portal home's "sign your plan". Fixed query counts."""

from __future__ import annotations

from core import clock
from core.access import UserRequest
from core.panels import Panel, register
from patients.models import Patient

from ..models import PlanVersion, RecordStatus
from ..selectors.plans import current_enrollment, episode_due, waiting_for_patient
from ..services._common import CLINICAL_ROLES


@register("chart", order=15)
def chart(request: UserRequest, patient: Patient) -> Panel | None:
    if request.user.role not in CLINICAL_ROLES:
        return None
    enrollment = current_enrollment(patient)
    versions = (
        list(
            PlanVersion.objects.filter(plan__enrollment=enrollment)
            .select_related("author")
            .order_by("-number")
        )
        if enrollment is not None
        else []
    )
    in_force = next((v for v in versions if v.status != RecordStatus.DRAFT), None)
    draft = next((v for v in versions if v.status == RecordStatus.DRAFT), None)
    due = episode_due(enrollment)
    today = clock.site_today(patient.site)
    return Panel(
        template="records/plans/_chart.html",
        context={
            "patient": patient,
            "enrollment": enrollment,
            "in_force": in_force,
            "draft": draft,
            "due": due,
            "days_left": due.due.days_left(today) if due is not None else None,
        },
    )


@register("portal_home", order=12)
def portal_home(request: UserRequest, patient: Patient) -> Panel | None:
    waiting = waiting_for_patient(patient)
    if waiting is None:
        return None
    return Panel(template="records/plans/_portal_home.html", context={"version": waiting})
