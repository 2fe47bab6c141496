"""Weekly meeting compliance, computed in the site's time zone (weeks start Monday).

Week boundaries are local midnights converted to UTC one by one, so a week that
contains a DST change is 167 or 169 hours long and a meeting at 23:30 on the last
Sunday still belongs to that week. Adding 7 x 24 h to a UTC instant would not.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from core.clock import week_bounds
from patients.compliance import ComplianceStatus

from .models import Meeting, MeetingRequirement, MeetingStatus


def requirement_for(
    requirements: Iterable[MeetingRequirement], phase_id: int | None
) -> MeetingRequirement | None:
    """The phase's own row, else the site's default row, else none."""
    default = None
    for req in requirements:
        if phase_id is not None and req.phase_id == phase_id:
            return req
        if req.phase_id is None:
            default = req
    return default


def required_in_week(
    per_week: int, monday: date, admitted: date | None, discharged: date | None = None
) -> int:
    """Meetings required in the week, pro rata to the days enrolled (rounded up).

    A patient admitted on Thursday owes ceil(3 x 4/7) = 2 that week, not 3; a week
    wholly outside the enrollment owes none."""
    if per_week <= 0 or admitted is None:
        return 0
    sunday = monday + timedelta(days=6)
    first = max(monday, admitted)
    last = min(sunday, discharged) if discharged else sunday
    days = (last - first).days + 1
    if days <= 0:
        return 0
    return math.ceil(per_week * days / 7)


@dataclass
class WeekCompliance:
    week_start: date
    required: int
    logged: int  # counting meetings not rejected (pending + verified)
    verified: int
    pending: int
    rejected: int
    not_counted: int  # of a fellowship this phase does not count
    status: ComplianceStatus

    @property
    def week_end(self) -> date:
        return self.week_start + timedelta(days=6)

    @property
    def status_label(self) -> str:
        return self.status.label

    @property
    def still_needed(self) -> int:
        return max(0, self.required - self.verified)


def week_compliance(
    *,
    monday: date,
    meetings: Iterable[Meeting],
    tz: ZoneInfo,
    requirement: MeetingRequirement | None,
    admitted: date | None,
    discharged: date | None,
    today: date,
) -> WeekCompliance:
    """Compliance for one week from already-fetched meetings (any range; filtered here)."""
    start, end = week_bounds(monday, tz)
    per_week = requirement.meetings_per_week if requirement else 0
    required = required_in_week(per_week, monday, admitted, discharged)
    verified = pending = rejected = not_counted = 0
    for m in meetings:
        if not (start <= m.held_at < end):
            continue
        if m.status == MeetingStatus.REJECTED:
            rejected += 1
        elif requirement is not None and not requirement.counts(m.fellowship):
            not_counted += 1
        elif m.status == MeetingStatus.VERIFIED:
            verified += 1
        else:
            pending += 1
    if required == 0:
        status = ComplianceStatus.NOT_REQUIRED
    elif verified >= required:
        status = ComplianceStatus.MET
    elif verified + pending >= required:
        status = ComplianceStatus.AWAITING
    elif today <= monday + timedelta(days=6):
        status = ComplianceStatus.IN_PROGRESS
    else:
        status = ComplianceStatus.SHORT
    return WeekCompliance(
        week_start=monday,
        required=required,
        logged=verified + pending,
        verified=verified,
        pending=pending,
        rejected=rejected,
        not_counted=not_counted,
        status=status,
    )
