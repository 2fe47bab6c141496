"""Scheduling's contributions to the staff home, the patient chart and the portal home.
Each runs a fixed number of queries whatever the data size."""

from __future__ import annotations

from datetime import timedelta
from functools import reduce
from operator import or_

from django.db.models import Q
from django.utils import timezone

from core.access import UserRequest
from core.clock import site_today, week_start
from core.models import Site
from core.panels import Panel, register
from patients.models import Patient

from .models import Attendance, SessionStatus
from .selectors.hours import weekly_hours_precomputed
from .selectors.rosters import roster_counts
from .selectors.sessions import patient_sessions, sessions_between

CHART_UPCOMING = 5
CHART_RECENT = 6
STAFF_HOME_MAX = 12


@register("chart", order=20)
def chart(request: UserRequest, patient: Patient) -> Panel | None:
    now = timezone.now()
    today = site_today(patient.site, now)
    upcoming = [
        s for s in patient_sessions(patient, today, today + timedelta(days=13)) if s.ends_at > now
    ][:CHART_UPCOMING]
    recent = list(
        Attendance.objects.filter(patient=patient, session__starts_at__lte=now)
        .select_related("session__track", "session__site")
        .order_by("-session__starts_at")[:CHART_RECENT]
    )
    week = weekly_hours_precomputed([patient], week_start(today), now=now)[0]
    return Panel(
        template="scheduling/_panel_chart.html",
        context={
            "patient": patient,
            "upcoming": upcoming,
            "recent": recent,
            "week": week,
            "can_book": request.user.role in ("director", "counselor", "medical", "frontdesk"),
        },
    )


@register("staff_home", order=10)
def staff_home(request: UserRequest, sites: list[Site]) -> Panel | None:
    if not sites or request.user.role not in ("director", "counselor", "medical", "frontdesk"):
        return None
    now = timezone.now()
    todays = {s.pk: site_today(s, now) for s in sites}
    # Each site's own today (two sites may be on different days), the first few in SQL.
    on_its_day = reduce(or_, (Q(site_id=pk, local_date=day) for pk, day in todays.items()))
    sessions = list(
        sessions_between(sites, min(todays.values()), max(todays.values())).filter(on_its_day)[
            :STAFF_HOME_MAX
        ]
    )
    rosters, marked = roster_counts(sessions)
    entries = [
        {
            "session": s,
            "roster": rosters[s.pk],
            "marked": marked[s.pk],
            "mine": s.facilitator_id == request.user.pk,
        }
        for s in sessions
    ]
    return Panel(
        template="scheduling/_panel_staff_home.html",
        context={"entries": entries, "multi_site": len(sites) > 1},
    )


@register("portal_home", order=10)
def portal_home(request: UserRequest, patient: Patient) -> Panel | None:
    now = timezone.now()
    today = site_today(patient.site, now)
    upcoming = [
        s
        for s in patient_sessions(patient, today, today + timedelta(days=13))
        if s.ends_at > now and s.status == SessionStatus.SCHEDULED
    ]
    return Panel(
        template="scheduling/_panel_portal_home.html",
        context={"next": upcoming[0] if upcoming else None, "tz": patient.site.time_zone},
    )
