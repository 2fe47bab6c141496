"""Scheduling's entries in the patient's timeline: attendance, with status and minutes.

One query whatever the number of sessions (``core.timeline``)."""

from __future__ import annotations

from django.urls import reverse

from core.models import Role
from core.timeline import TimelineEntry, TimelineQuery, source

from .models import Attendance, AttendanceStatus

# Who opens a session's attendance page (scheduling.views.attendance's rule).
SESSION_ROLES = frozenset({Role.DIRECTOR, Role.COUNSELOR, Role.MEDICAL, Role.FRONT_DESK})
BADGES: dict[str, str] = {
    AttendanceStatus.PRESENT: "text-bg-success",
    AttendanceStatus.LATE: "text-bg-warning",
    AttendanceStatus.LEFT_EARLY: "text-bg-warning",
    AttendanceStatus.EXCUSED: "text-bg-secondary",
    AttendanceStatus.UNEXCUSED: "text-bg-danger",
}


@source("attendance", order=10)
def attendance(query: TimelineQuery) -> list[TimelineEntry]:
    rows = Attendance.objects.filter(patient=query.patient).select_related("session__site")
    if query.start is not None:
        rows = rows.filter(session__starts_at__gte=query.start)
    if query.end is not None:
        rows = rows.filter(session__starts_at__lt=query.end)
    rows = rows.order_by("-session__starts_at", "-pk")
    if query.limit is not None:
        rows = rows[: query.limit]
    linked = query.viewer.role in SESSION_ROLES
    entries = []
    for row in rows:
        session = row.session
        minutes = f"{row.minutes_credited} min credited" if row.minutes_credited else ""
        entries.append(
            TimelineEntry(
                at=session.starts_at,
                day=session.local_date,
                kind="attendance",
                title=session.title,
                detail=minutes,
                status=row.get_status_display(),
                url=reverse("scheduling:attendance", args=[session.pk]) if linked else None,
                badge=BADGES.get(row.status, "text-bg-secondary"),
                labels=("Make-up",) if row.is_guest else (),
            )
        )
    return entries
