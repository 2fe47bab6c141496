"""Panels on the portal home, the patient chart and the staff home (fixed query counts)."""

from __future__ import annotations

from django.db.models import Count

from core import clock
from core.access import UserRequest
from core.clock import site_today
from core.formats import format_time
from core.models import Role, Site
from core.panels import Panel, register
from patients.models import Patient

from .models import DeadlineKind, Selection, TestAlert
from .selectors import counts_for_sites, notice_at


@register("portal_home", order=5)
def portal_home(request: UserRequest, patient: Patient) -> Panel | None:
    # Shown on the site-local day of the test only, while it is still to be given.
    now = clock.now()
    on = site_today(patient.site, now)
    selection = (
        Selection.objects.filter(
            patient=patient, date=on, status=Selection.Status.PENDING, deadline__gt=now
        )
        .select_related("policy")
        .order_by("deadline")
        .first()
    )
    # A selection is not announced before its notice (the site's opening on its day).
    if selection is None or notice_at(selection, site=patient.site) > now:
        return None
    if selection.policy.deadline_kind == DeadlineKind.SESSION:
        report_by = "Report at today's session."
    else:
        report_by = f"Report by {format_time(selection.deadline, tz=patient.site.tz)}."
    return Panel(
        template="drugtests/_portal_notice.html",
        context={"selection": selection, "report_by": report_by, "site": patient.site},
    )


@register("chart", order=40)
def chart(request: UserRequest, patient: Patient) -> Panel | None:
    rows = list(
        Selection.objects.filter(patient=patient)
        .select_related("specimen")
        .order_by("-date", "-pk")[:20]
    )
    return Panel(
        template="drugtests/_chart.html",
        context={
            "patient": patient,
            "rows": rows,
            "can_order": request.user.role in (Role.DIRECTOR, Role.MEDICAL, Role.COUNSELOR),
            "can_open": request.user.role in (Role.DIRECTOR, Role.MEDICAL, Role.COUNSELOR),
        },
    )


@register("staff_home", order=30)
def staff_home(request: UserRequest, sites: list[Site]) -> Panel | None:
    if not sites:
        return None
    counts = counts_for_sites(sites, clock.now())
    alerts = None
    if request.user.role in (Role.DIRECTOR, Role.MEDICAL):
        alerts = TestAlert.objects.filter(
            site__in=[s.pk for s in sites], resolved_at__isnull=True
        ).aggregate(n=Count("pk"))["n"]
    return Panel(
        template="drugtests/_staff_home.html",
        context={"counts": counts, "alerts": alerts},
    )
