"""Weekly hours compliance: each patient's scheduled, attended and remaining minutes
against the level's minimum."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import FilteredRelation, Q, QuerySet

from core import clock
from core.clock import site_today, week_bounds, week_start
from core.models import Site, User
from patients.access import patients_visible_to
from patients.compliance import ComplianceStatus
from patients.models import (
    OPEN_STATUSES,
    Enrollment,
    Patient,
    ProgramLevel,
    TrackMembership,
    weekly_minimum_minutes,
)
from patients.selectors import enrollments_by_patient

from ..models import ATTENDED_STATUSES, Attendance, Session, SessionStatus, WeeklyHours
from ._common import _covering


def compliance_patients(user: User, site: Site, *, counselor: User | None) -> list[Patient]:
    """Visible patients of the site with an open enrollment (only ``counselor``'s
    caseload when given), for the weekly hours page."""
    visible = patients_visible_to(user).filter(site=site, enrollments__status__in=OPEN_STATUSES)
    if counselor is not None:
        visible = visible.filter(primary_counselor=counselor)
    return list(
        visible.select_related("site")
        .order_by("legal_last_name", "legal_first_name", "pk")
        .distinct()
    )


@dataclass
class WeekHours:
    patient: Patient
    monday: date
    level: str | None
    adolescent: bool
    scheduled_minutes: int = 0
    attended_minutes: int = 0
    # Still to come this week: not cancelled, not marked, and not before today (a session
    # held earlier today that is not marked yet still counts as pending).
    remaining_minutes: int = 0
    minimum_minutes: int = 0
    status: ComplianceStatus = ComplianceStatus.NO_MINIMUM
    days: dict[date, int] = field(default_factory=dict)  # local date -> attended minutes

    @property
    def status_label(self) -> str:
        # Hours keep the words their pages have always shown for a met week; the meetings
        # column, under its own heading, says only "Met".
        if self.status == ComplianceStatus.MET:
            return "Minimum met"
        return self.status.label

    @property
    def badge(self) -> str:
        return self.status.colour

    @property
    def level_short(self) -> str:
        return ProgramLevel(self.level).short if self.level else "—"

    @staticmethod
    def hours(minutes: int) -> str:
        return f"{minutes / 60:.1f}"

    @property
    def scheduled_hours(self) -> str:
        return self.hours(self.scheduled_minutes)

    @property
    def attended_hours(self) -> str:
        return self.hours(self.attended_minutes)

    @property
    def minimum_hours(self) -> str:
        return self.hours(self.minimum_minutes)


def compliance_status(
    *, attended: int, remaining: int, minimum: int, week_over: bool
) -> ComplianceStatus:
    """On track while the minimum is still reachable; at risk mid-week once it is not;
    below minimum when the week ended short."""
    if minimum <= 0:
        return ComplianceStatus.NO_MINIMUM
    if attended >= minimum:
        return ComplianceStatus.MET
    if week_over:
        return ComplianceStatus.BELOW
    if attended + remaining >= minimum:
        return ComplianceStatus.ON_TRACK
    return ComplianceStatus.AT_RISK


def _level_on(enrollments: list[Enrollment], on: date) -> str | None:
    """Level of the episode of care open on ``on`` (the latest admission wins)."""
    for e in enrollments:  # newest admission first
        if e.admission_date <= on and (e.discharge_date is None or e.discharge_date >= on):
            return e.level
    open_ = [e for e in enrollments if e.status in OPEN_STATUSES]
    return open_[0].level if open_ else None


@dataclass(frozen=True)
class _Held:
    """The columns of a session the hours read (one per session, whichever query)."""

    pk: int
    track_id: int | None
    patient_id: int | None
    local_date: date
    starts_at: datetime
    ends_at: datetime
    status: str


_HELD_FIELDS = ("pk", "track_id", "patient_id", "local_date", "starts_at", "ends_at", "status")


def _memberships(ids: list[int], monday: date, sunday: date) -> list[TrackMembership]:
    return list(
        TrackMembership.objects.filter(patient_id__in=ids, start_date__lte=sunday).filter(
            Q(end_date__isnull=True) | Q(end_date__gte=monday)
        )
    )


def _week_sessions(
    ids: list[int], memberships: list[TrackMembership], monday: date, sunday: date
) -> QuerySet[Session]:
    return (
        Session.objects.filter(local_date__gte=monday, local_date__lte=sunday)
        .filter(Q(track_id__in={m.track_id for m in memberships}) | Q(patient_id__in=ids))
        .exclude(status=SessionStatus.REMOVED)
    )


def weekly_hours(
    patients: Sequence[Patient], monday: date, *, now: datetime | None = None
) -> list[WeekHours]:
    """Hours of each patient in the week starting ``monday`` (site-local), in four queries,
    counted from the attendance rows themselves (letters and alerts read this; the pages
    read ``weekly_hours_precomputed``, which must give the same figures)."""
    now = clock.now(now)
    if not patients:
        return []
    sunday = monday + timedelta(days=6)
    ids = [p.pk for p in patients]
    memberships = _memberships(ids, monday, sunday)
    sessions = [
        _Held(**row)
        for row in _week_sessions(ids, memberships, monday, sunday).values(*_HELD_FIELDS)
    ]
    attendance = list(
        Attendance.objects.filter(
            patient_id__in=ids, session__local_date__gte=monday, session__local_date__lte=sunday
        )
        .exclude(session__status=SessionStatus.REMOVED)
        .values("patient_id", "session_id", "status", "minutes_credited", "session__local_date")
    )
    taken = {(a["patient_id"], a["session_id"]) for a in attendance}
    days_of: defaultdict[int, list[int]] = defaultdict(lambda: [0] * 7)
    for a in attendance:
        if a["status"] in ATTENDED_STATUSES:
            days_of[a["patient_id"]][a["session__local_date"].weekday()] += a["minutes_credited"]
    enrollments = enrollments_by_patient(patients)
    return _rows(patients, monday, now, memberships, sessions, taken, days_of, enrollments)


def weekly_hours_precomputed(
    patients: Sequence[Patient], monday: date, *, now: datetime | None = None
) -> list[WeekHours]:
    """``weekly_hours`` with the attended minutes read from ``WeeklyHours`` (kept by the
    attendance services) instead of summed from the attendance rows, in four queries.
    Which sessions are marked (for the minutes still to come) is read only while some
    patient's week is not over, joined to the sessions' own query."""
    now = clock.now(now)
    if not patients:
        return []
    sunday = monday + timedelta(days=6)
    ids = [p.pk for p in patients]
    memberships = _memberships(ids, monday, sunday)
    week_sessions = _week_sessions(ids, memberships, monday, sunday)
    over = all(now >= week_bounds(monday, tz)[1] for tz in {p.site.tz for p in patients})
    taken: set[tuple[int, int]] = set()
    if over:
        sessions = [_Held(**row) for row in week_sessions.values(*_HELD_FIELDS)]
    else:
        # One row per session and per mark of these patients (a session without one once).
        marked = week_sessions.annotate(
            mark=FilteredRelation("attendance", condition=Q(attendance__patient_id__in=ids))
        ).values(*_HELD_FIELDS, "mark__patient_id")
        seen: dict[int, _Held] = {}
        for row in marked:
            marker = row.pop("mark__patient_id")
            if marker is not None:
                taken.add((marker, row["pk"]))
            if row["pk"] not in seen:
                seen[row["pk"]] = _Held(**row)
        sessions = list(seen.values())
    days_of: defaultdict[int, list[int]] = defaultdict(lambda: [0] * 7)
    for stored in precomputed_hours(ids, monday):
        days_of[stored.patient_id] = list(stored.day_minutes)
    enrollments = enrollments_by_patient(patients)
    return _rows(patients, monday, now, memberships, sessions, taken, days_of, enrollments)


def precomputed_hours(patient_ids: Iterable[int], monday: date) -> list[WeeklyHours]:
    """The stored weekly hours of ``patient_ids`` for the week starting ``monday`` (a
    patient without a row attended nothing that week), in one query: what other apps'
    pages read instead of summing attendance."""
    return list(
        WeeklyHours.objects.filter(patient_id__in=list(patient_ids), week_start=monday).only(
            "patient_id", "week_start", "attended_minutes", "day_minutes"
        )
    )


def _rows(
    patients: Sequence[Patient],
    monday: date,
    now: datetime,
    memberships: list[TrackMembership],
    sessions: list[_Held],
    taken: set[tuple[int, int]],
    days_of: Mapping[int, list[int]],
    enrollments: Mapping[int, list[Enrollment]],
) -> list[WeekHours]:
    sunday = monday + timedelta(days=6)
    by_patient = defaultdict(list)
    for m in memberships:
        by_patient[m.patient_id].append(m)
    # Indexed once, so the loop below is linear in the data, not patients x rows.
    sessions_of_track: defaultdict[object, list[_Held]] = defaultdict(list)
    for s in sessions:
        sessions_of_track[s.track_id or ("patient", s.patient_id)].append(s)

    rows = []
    for p in patients:
        _, week_end = week_bounds(monday, p.site.tz)
        today = site_today(p.site, now)
        level = _level_on(enrollments.get(p.pk, []), min(sunday, today))
        adolescent = p.is_adolescent_on(monday)
        row = WeekHours(patient=p, monday=monday, level=level, adolescent=adolescent)
        mine_by_track = {m.track_id for m in by_patient[p.pk]}
        candidates = [s for t in mine_by_track for s in sessions_of_track[t]]
        candidates += sessions_of_track[("patient", p.pk)]
        for s in candidates:
            if s.status != SessionStatus.SCHEDULED:
                continue  # a cancelled session is not an absence and not expected
            mine = s.patient_id == p.pk or (
                s.track_id and _covering(by_patient[p.pk], s.track_id, s.local_date)
            )
            if not mine:
                continue
            minutes = int((s.ends_at - s.starts_at).total_seconds() // 60)
            row.scheduled_minutes += minutes
            if (s.local_date >= today or s.ends_at > now) and (p.pk, s.pk) not in taken:
                row.remaining_minutes += minutes
        days = days_of.get(p.pk) or [0] * 7
        row.days = {monday + timedelta(days=i): days[i] for i in range(7)}
        row.attended_minutes = sum(days)
        row.minimum_minutes = weekly_minimum_minutes(level, adolescent) if level else 0
        row.status = compliance_status(
            attended=row.attended_minutes,
            remaining=row.remaining_minutes,
            minimum=row.minimum_minutes,
            week_over=now >= week_end,
        )
        rows.append(row)
    return rows


def this_week(site: Site, now: datetime | None = None) -> date:
    return week_start(site_today(site, now))
