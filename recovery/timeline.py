"""Recovery's entries in the patient's timeline: mutual-help meetings, logged or verified.

One query whatever the number of meetings (``core.timeline``)."""

from __future__ import annotations

from django.urls import reverse

from core.models import Role
from core.timeline import TimelineEntry, TimelineQuery, source

from .models import Meeting, MeetingStatus

# Who opens the patient's recovery page (recovery.views.CHART_ROLES).
RECOVERY_ROLES = frozenset({Role.DIRECTOR, Role.COUNSELOR, Role.MEDICAL, Role.FRONT_DESK})
STATUSES: dict[str, tuple[str, str]] = {
    MeetingStatus.PENDING: ("Logged, not yet verified", "text-bg-warning"),
    MeetingStatus.VERIFIED: ("Verified", "text-bg-success"),
    MeetingStatus.REJECTED: ("Not accepted", "text-bg-danger"),
}


@source("meetings", order=30)
def meetings(query: TimelineQuery) -> list[TimelineEntry]:
    patient = query.patient
    rows = Meeting.objects.filter(patient=patient)
    if query.start is not None:
        rows = rows.filter(held_at__gte=query.start)
    if query.end is not None:
        rows = rows.filter(held_at__lt=query.end)
    rows = rows.order_by("-held_at", "-pk")
    if query.limit is not None:
        rows = rows[: query.limit]
    url = reverse("recovery:patient", args=[patient.pk])
    linked = query.viewer.role in RECOVERY_ROLES
    entries = []
    for row in rows:
        status, badge = STATUSES.get(row.status, (row.get_status_display(), "text-bg-secondary"))
        by = "the patient" if row.logged_by_id == patient.user_id else "staff"
        entries.append(
            TimelineEntry(
                at=row.held_at,
                day=row.held_at.astimezone(patient.site.tz).date(),
                kind="meetings",
                title=f"{row.fellowship_label} meeting: {row.name}",
                detail=f"{row.get_mode_display()} · logged by {by}",
                status=status,
                url=url if linked else None,
                badge=badge,
            )
        )
    return entries
