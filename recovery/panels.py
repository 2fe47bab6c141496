"""Recovery's parts of the staff home, the patient chart and the portal home.
Each runs a fixed number of queries whatever the data size."""

from __future__ import annotations

from django.urls import reverse

from core.access import UserRequest
from core.clock import site_today
from core.models import Role, Site
from core.panels import Panel, register
from patients.models import Patient

from . import selectors
from .models import OPEN_HOMEWORK_STATUSES, HomeworkStatus


@register("staff_home", order=40)
def staff_home(request: UserRequest, sites: list[Site]) -> Panel | None:
    if request.user.role not in (Role.DIRECTOR, Role.COUNSELOR):
        return None
    counts = selectors.review_queue_counts(request.user)
    return Panel(
        template="recovery/_panel_staff_home.html",
        context={"counts": counts, "queue_url": reverse("recovery:queue")},
    )


@register("chart", order=60)
def chart(request: UserRequest, patient: Patient) -> Panel | None:
    # Minimum necessary: collection technicians do not need recovery work.
    if request.user.role not in (Role.DIRECTOR, Role.COUNSELOR, Role.MEDICAL, Role.FRONT_DESK):
        return None
    today = site_today(patient.site)
    homework = selectors.patient_homework(patient)
    for item in homework:
        item.display_status = item.status_on(today)
    return Panel(
        template="recovery/_panel_chart.html",
        context={
            "patient": patient,
            "week": selectors.compliance_weeks(patient, weeks=1)[0],
            "sponsor": selectors.current_sponsor(patient),
            "step": selectors.current_step(patient),
            "homework": homework[:8],
            "homework_more": max(0, len(homework) - 8),
            "url": reverse("recovery:patient", args=[patient.pk]),
        },
    )


@register("portal_home", order=40)
def portal_home(request: UserRequest, patient: Patient) -> Panel | None:
    today = site_today(patient.site)
    due = [
        h
        for h in selectors.patient_homework(patient, open_only=True)
        if h.status in OPEN_HOMEWORK_STATUSES
    ]
    for item in due:
        item.display_status = item.status_on(today)
    return Panel(
        template="recovery/_panel_portal_home.html",
        context={
            "week": selectors.compliance_weeks(patient, weeks=1)[0],
            "due": due,
            "overdue": sum(1 for h in due if h.display_status == HomeworkStatus.OVERDUE),
            "homework_url": reverse("recovery:portal_homework"),
            "meetings_url": reverse("recovery:portal_meetings"),
        },
    )
