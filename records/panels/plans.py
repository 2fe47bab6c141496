"""Panels for plans: the chart's plan card (clinicians only: front desk and collectors
see no clinical content), the clinician's own drafts on the staff home, and the portal
home's "sign your plan". Fixed query counts."""

from __future__ import annotations

from core import clock
from core.access import UserRequest
from core.models import Site
from core.panels import Panel, register
from patients.models import OPEN_STATUSES, Enrollment, Patient

from ..models import PlanVersion, RecordStatus
from ..selectors.common import plans_due
from ..selectors.plans import portal_plan_version
from ..services._common import CLINICAL_ROLES

DRAFTS_SHOWN = 10


@register("chart", order=25)
def chart(request: UserRequest, patient: Patient) -> Panel | None:
    if request.user.role not in CLINICAL_ROLES:
        return None
    # Three queries: the open episode with its due date (two), its plan's versions.
    found = plans_due(Enrollment.objects.filter(patient=patient, status__in=OPEN_STATUSES))
    due = found[0] if found else None
    enrollment = due.enrollment if due is not None else None
    versions = list(
        PlanVersion.objects.filter(
            plan__enrollment__patient=patient, plan__enrollment__status__in=OPEN_STATUSES
        )
        .select_related("author")
        .order_by("-number")
    )
    in_force = next((v for v in versions if v.status != RecordStatus.DRAFT), None)
    draft = next((v for v in versions if v.status == RecordStatus.DRAFT), None)
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


@register("staff_home", order=35)
def staff_home(request: UserRequest, sites: list[Site]) -> Panel | None:
    """The clinician's own draft plans, to finish and sign (one query)."""
    if request.user.role not in CLINICAL_ROLES:
        return None
    drafts = list(
        PlanVersion.objects.filter(author=request.user, status=RecordStatus.DRAFT)
        .select_related("plan__patient")
        .order_by("created_at", "pk")[:DRAFTS_SHOWN]
    )
    if not drafts:
        return None
    return Panel(template="records/plans/_staff_home.html", context={"drafts": drafts})


@register("portal_home", order=12)
def portal_home(request: UserRequest, patient: Patient) -> Panel | None:
    """ "Sign your plan" while it waits for the patient; else a link to read it."""
    version = portal_plan_version(patient)
    if version is None:
        return None
    return Panel(template="records/plans/_portal_home.html", context={"version": version})
