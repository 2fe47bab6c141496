"""Group notes on other pages: the session's attendance sheet (scheduling's
"attendance" hook: the group note's state and the sign-in sheet) and the facilitator's
staff home (their recent groups whose note is not signed). A fixed number of queries
each, whatever the data size."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import F

from core.access import UserRequest
from core.clock import now as clock_now
from core.models import Role, Site
from core.panels import Panel, register
from scheduling.models import Session, SessionStatus

from ..models import GroupNote

# Clinicians write group notes; the front desk prints the sign-in sheet.
_WRITERS = (Role.DIRECTOR, Role.COUNSELOR, Role.MEDICAL)
_SHEET = (*_WRITERS, Role.FRONT_DESK)
STAFF_HOME_DAYS = 14
STAFF_HOME_MAX = 8


@register("attendance", order=10)
def attendance(request: UserRequest, session: Session) -> Panel | None:
    role = request.user.role
    if session.track_id is None or role not in _SHEET:
        return None
    group = None
    if role in _WRITERS:
        group = GroupNote.objects.filter(session=session).only("pk", "status", "signed_at").first()
    held = session.status == SessionStatus.SCHEDULED and session.starts_at <= clock_now()
    return Panel(
        template="records/groups/_panel_attendance.html",
        context={
            "session": session,
            "group": group,
            "can_write": role in _WRITERS and session.status == SessionStatus.SCHEDULED,
            "held": held,
        },
    )


@register("staff_home", order=35)
def staff_home(request: UserRequest, sites: list[Site]) -> Panel | None:
    if request.user.role not in _WRITERS:
        return None
    now = clock_now()
    owed = list(
        Session.objects.filter(
            facilitator=request.user,
            track__isnull=False,
            status=SessionStatus.SCHEDULED,
            starts_at__lte=now,
            starts_at__gte=now - timedelta(days=STAFF_HOME_DAYS),
        )
        .exclude(clinical_note__signed_at__isnull=False)
        .select_related("site", "track", "clinical_note")
        # A draft already started comes first: it is the one nearest to done.
        .order_by(F("clinical_note__created_at").desc(nulls_last=True), "-starts_at")[
            :STAFF_HOME_MAX
        ]
    )
    if not owed:
        return None
    return Panel(
        template="records/groups/_panel_staff_home.html",
        context={"sessions": owed, "multi_site": len(sites) > 1, "days": STAFF_HOME_DAYS},
    )
