"""Reads for scheduling: rosters, sessions a user may see, hours and billing days.

Rosters are computed from ``patients.TrackMembership`` (effective-dated, site-local
dates) rather than copied: a session's roster is every membership of its track that
covers the session's local date, plus anyone who already has attendance recorded
there (so a later retroactive change never hides attendance that was taken).
Each function here runs a fixed number of queries whatever the data size.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from core import clock
from core.access import get_or_deny, site_ids_for
from core.clock import site_today, week_bounds, week_start
from core.models import Site, User
from patients.access import patients_visible_to
from patients.compliance import ComplianceStatus
from patients.models import (
    OPEN_STATUSES,
    Enrollment,
    Patient,
    ProgramLevel,
    Track,
    TrackMembership,
    weekly_minimum_minutes,
)

from ..models import (
    ATTENDED_STATUSES,
    Attendance,
    AttendanceStatus,
    CalendarFeed,
    Holiday,
    Session,
    SessionSeries,
    SessionStatus,
    SiteSchedule,
)

# --- access ----------------------------------------------------------------


def sites_for(user: User) -> QuerySet[Site]:
    """Active sites a staff user works at (every site of the organisation for a director)."""
    staff = user.staff
    if staff is None:
        return Site.objects.none()
    qs = Site.objects.filter(organization_id=staff.organization_id, is_active=True)
    ids = site_ids_for(user)
    return qs if ids is None else qs.filter(pk__in=ids)


def sessions_visible_to(user: User) -> QuerySet[Session]:
    """Sessions at the user's sites; individual sessions only for patients they may see."""
    staff = user.staff
    if staff is None or not user.is_active:
        return Session.objects.none()
    qs = Session.objects.filter(site__in=sites_for(user)).exclude(status=SessionStatus.REMOVED)
    return qs.filter(Q(patient__isnull=True) | Q(patient__in=patients_visible_to(user)))


def session_get_for_user(user: User, pk: int) -> Session:
    return get_or_deny(
        user,
        sessions_visible_to(user).select_related(
            "site", "track", "facilitator", "patient", "series"
        ),
        action="scheduling.session_view",
        message="No such session.",
        detail={"session_pk": pk},
        pk=pk,
    )


def track_get_for_user(user: User, pk: int) -> Track:
    return get_or_deny(
        user,
        Track.objects.filter(site__in=sites_for(user)).select_related("site"),
        action="scheduling.track_view",
        message="No such track.",
        detail={"track_pk": pk},
        pk=pk,
    )


# --- rosters ---------------------------------------------------------------


def _covering(
    memberships: Iterable[TrackMembership], track_id: int | None, on: date
) -> list[TrackMembership]:
    return [m for m in memberships if m.track_id == track_id and m.covers(on)]


def rosters_for_sessions(
    sessions: list[Session], attendance: Iterable[Attendance] | None = None
) -> dict[int, list[Patient]]:
    """Roster of each session (two queries for any number of sessions; one when the
    caller passes the sessions' attendance rows, fetched with their patients)."""
    rosters: dict[int, dict[int, Patient]] = {s.pk: {} for s in sessions}
    group = [s for s in sessions if s.track_id is not None]
    if group:
        first = min(s.local_date for s in group)
        last = max(s.local_date for s in group)
        memberships = list(
            TrackMembership.objects.filter(
                track_id__in={s.track_id for s in group}, start_date__lte=last
            )
            .filter(Q(end_date__isnull=True) | Q(end_date__gte=first))
            .select_related("patient")
        )
        for s in group:
            for m in _covering(memberships, s.track_id, s.local_date):
                rosters[s.pk][m.patient_id] = m.patient
    for s in sessions:
        if s.patient_id is not None and s.patient is not None:
            rosters[s.pk][s.patient_id] = s.patient
    taken = (
        attendance
        if attendance is not None
        else Attendance.objects.filter(session__in=[s.pk for s in sessions]).select_related(
            "patient"
        )
    )
    for a in taken:
        rosters[a.session_id].setdefault(a.patient_id, a.patient)
    return {
        pk: sorted(people.values(), key=lambda p: (p.legal_last_name, p.legal_first_name, p.pk))
        for pk, people in rosters.items()
    }


def session_roster_patients(session: Session) -> list[Patient]:
    """Everyone expected at ``session``: the track's roster on its local date (or the one
    patient of an individual session), plus make-up attendees already recorded."""
    return rosters_for_sessions([session])[session.pk]


def session_roster_size(session: Session) -> int:
    return len(session_roster_patients(session))


# --- sessions --------------------------------------------------------------


def sessions_between(
    sites: Iterable[Site], first: date, last: date, *, track: Track | None = None
) -> QuerySet[Session]:
    qs = (
        Session.objects.filter(site__in=sites, local_date__gte=first, local_date__lte=last)
        .exclude(status=SessionStatus.REMOVED)
        .select_related("site", "track", "facilitator", "patient")
        .order_by("starts_at", "pk")
    )
    if track is not None:
        qs = qs.filter(track=track)
    return qs


def patient_sessions(patient: Patient, first: date, last: date) -> list[Session]:
    """The patient's group sessions (by roster) and individual sessions between two local
    dates, cancellations included (they are shown, not counted)."""
    memberships = list(
        TrackMembership.objects.filter(patient=patient, start_date__lte=last).filter(
            Q(end_date__isnull=True) | Q(end_date__gte=first)
        )
    )
    track_ids = {m.track_id for m in memberships}
    candidates = (
        Session.objects.filter(local_date__gte=first, local_date__lte=last)
        .filter(Q(track_id__in=track_ids) | Q(patient=patient))
        .exclude(status=SessionStatus.REMOVED)
        .select_related("site", "track", "facilitator")
        .order_by("starts_at", "pk")
    )
    return [
        s
        for s in candidates
        if s.patient_id == patient.pk or _covering(memberships, s.track_id, s.local_date)
    ]


# --- what the staff and portal pages read -----------------------------------


def site_choices(user: User) -> list[Site]:
    return list(sites_for(user).order_by("name"))


def active_tracks(site: Site) -> list[Track]:
    return list(site.tracks.filter(is_active=True).order_by("kind", "name"))


def attendance_marked_counts(sessions: Iterable[Session]) -> dict[int, int]:
    """Attendance rows recorded per session (one query for any number of sessions)."""
    return dict(
        Attendance.objects.filter(session__in=sessions)
        .values("session")
        .annotate(n=Count("pk"))
        .values_list("session", "n")
    )


def facilitator_sessions_today(user: User, now: datetime) -> list[Session]:
    """The user's sessions on each site's own today (zones may differ on the date)."""
    sites = list(sites_for(user))
    days = {site_today(s, now) for s in sites} or {timezone.localdate()}
    return [
        s
        for s in sessions_between(sites, min(days), max(days)).filter(facilitator=user)
        if s.local_date == site_today(s.site, now)
    ]


def attendance_taken(session: Session) -> list[Attendance]:
    return list(
        Attendance.objects.filter(session=session)
        .annotate(n_changes=Count("changes"))
        .select_related("patient")
    )


def attendance_row(session: Session, patient: Patient) -> Attendance | None:
    return (
        Attendance.objects.filter(session=session, patient=patient)
        .annotate(n_changes=Count("changes"))
        .first()
    )


def attendance_credited_minutes(session: Session) -> list[int]:
    return list(
        Attendance.objects.filter(session=session).values_list("minutes_credited", flat=True)
    )


def make_up_candidates(user: User, session: Session, roster_ids: list[int]) -> QuerySet[Patient]:
    """Who the make-up picker offers: visible patients of the session's site with an open
    enrollment, not already on its roster."""
    return (
        patients_visible_to(user)
        .filter(
            site_id=session.site_id,
            is_archived=False,
            enrollments__status__in=OPEN_STATUSES,
        )
        .exclude(pk__in=roster_ids)
        .order_by("legal_last_name", "legal_first_name")
        .distinct()
    )


def make_up_allowed(user: User, session: Session) -> QuerySet[Patient]:
    """Any visible patient of the site: the service refuses the rest, on the form."""
    return patients_visible_to(user).filter(site_id=session.site_id)


def series_get_for_user(user: User, pk: int) -> tuple[SessionSeries, Track]:
    """A weekly series and its track, if the user may see the track (else 404; the
    track's denial is audited like any other track)."""
    series = SessionSeries.objects.select_related("track__site").filter(pk=pk).first()
    if series is None:
        raise Http404
    return series, track_get_for_user(user, series.track_id)


def track_current_series(track: Track, today: date) -> list[SessionSeries]:
    return list(
        SessionSeries.objects.filter(track=track, is_active=True)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
        .select_related("facilitator")
    )


def track_roster_count(track: Track, on: date) -> int:
    return (
        TrackMembership.objects.filter(track=track, start_date__lte=on)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=on))
        .count()
    )


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


def holidays_in_year(site: Site, year: int) -> list[Holiday]:
    return list(Holiday.objects.filter(site=site, date__year=year).order_by("date"))


def holiday_years(site: Site, also: int) -> list[int]:
    return sorted(
        {d.year for d in Holiday.objects.filter(site=site).dates("date", "year")} | {also}
    )


def holiday_of_site(site: Site, pk: int) -> Holiday | None:
    return Holiday.objects.filter(site=site, pk=pk).first()


def calendar_feed_active(patient: Patient) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(patient=patient, revoked_at__isnull=True).first()


def calendar_feed_for_token(token: str) -> CalendarFeed | None:
    return (
        CalendarFeed.objects.filter(token=token, revoked_at__isnull=True)
        .select_related("patient__site")
        .first()
    )


# --- hours compliance ------------------------------------------------------


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


def weekly_hours(
    patients: Sequence[Patient], monday: date, *, now: datetime | None = None
) -> list[WeekHours]:
    """Hours of each patient in the week starting ``monday`` (site-local), in four queries."""
    now = clock.now(now)
    if not patients:
        return []
    sunday = monday + timedelta(days=6)
    ids = [p.pk for p in patients]
    memberships = list(
        TrackMembership.objects.filter(patient_id__in=ids, start_date__lte=sunday).filter(
            Q(end_date__isnull=True) | Q(end_date__gte=monday)
        )
    )
    by_patient = defaultdict(list)
    for m in memberships:
        by_patient[m.patient_id].append(m)
    sessions = list(
        Session.objects.filter(local_date__gte=monday, local_date__lte=sunday)
        .filter(Q(track_id__in={m.track_id for m in memberships}) | Q(patient_id__in=ids))
        .exclude(status=SessionStatus.REMOVED)
        .only("pk", "track_id", "patient_id", "local_date", "starts_at", "ends_at", "status")
    )
    attendance = list(
        Attendance.objects.filter(
            patient_id__in=ids, session__local_date__gte=monday, session__local_date__lte=sunday
        )
        .exclude(session__status=SessionStatus.REMOVED)
        .values("patient_id", "session_id", "status", "minutes_credited", "session__local_date")
    )
    taken = {(a["patient_id"], a["session_id"]) for a in attendance}
    # Indexed once, so the loop below is linear in the data, not patients x rows.
    attendance_of = defaultdict(list)
    for a in attendance:
        attendance_of[a["patient_id"]].append(a)
    sessions_of_track = defaultdict(list)
    for s in sessions:
        sessions_of_track[s.track_id or ("patient", s.patient_id)].append(s)
    enrollments = defaultdict(list)
    for e in Enrollment.objects.filter(patient_id__in=ids).order_by("-admission_date", "-pk"):
        enrollments[e.patient_id].append(e)

    rows = []
    for p in patients:
        _, week_end = week_bounds(monday, p.site.tz)
        today = site_today(p.site, now)
        level = _level_on(enrollments[p.pk], min(sunday, today))
        adolescent = p.is_adolescent_on(monday)
        row = WeekHours(patient=p, monday=monday, level=level, adolescent=adolescent)
        row.days = {monday + timedelta(days=i): 0 for i in range(7)}
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
        for a in attendance_of[p.pk]:
            if a["status"] in ATTENDED_STATUSES:
                row.attended_minutes += a["minutes_credited"]
                row.days[a["session__local_date"]] += a["minutes_credited"]
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


# --- billing days ----------------------------------------------------------

# An IOP day (HCPCS H0015) is commonly billable at 3 or more attended hours.
BILLABLE_DAY_MINUTES = 180


@dataclass
class BillingDay:
    patient: Patient
    day: date
    minutes: int
    sessions: int

    @property
    def meets_iop_day(self) -> bool:
        return self.minutes >= BILLABLE_DAY_MINUTES

    @property
    def hours(self) -> str:
        return f"{self.minutes / 60:.2f}"


def billing_days(
    patients: QuerySet[Patient], site: Site, first: date, last: date
) -> list[BillingDay]:
    """Each patient-day with attended minutes at ``site`` between two local dates."""
    rows = (
        Attendance.objects.filter(
            session__site=site,
            session__local_date__gte=first,
            session__local_date__lte=last,
            session__status=SessionStatus.SCHEDULED,
            status__in=list(ATTENDED_STATUSES),
            patient__in=patients,
        )
        .select_related("patient", "session")
        .order_by("session__local_date", "patient__legal_last_name", "patient_id")
    )
    days: dict[tuple[date, int], BillingDay] = {}
    for a in rows:
        key = (a.session.local_date, a.patient_id)
        if key not in days:
            days[key] = BillingDay(
                patient=a.patient, day=a.session.local_date, minutes=0, sessions=0
            )
        days[key].minutes += a.minutes_credited
        days[key].sessions += 1
    return list(days.values())


def schedule_rules(site: Site) -> SiteSchedule:
    return SiteSchedule.for_site(site)


# --- follow-up signals (for the staff home's alert rules) -------------------


# "Two unexcused absences in a row" (DOMAIN.md): a cancelled session is not an
# absence, so it neither counts nor breaks a streak; and an absence more than four
# weeks before is not "in a row".
ABSENCE_LOOKBACK_DAYS = 28


@dataclass
class AbsenceStreak:
    patient_id: int
    count: int
    last_session_id: int
    last_date: date


@dataclass(frozen=True)
class _StreakEnd:
    patient_id: int
    day: date  # the look-back counts back from this site-local day
    starts_at: datetime | None = None  # only sessions started by then (None: all that day)
    session_id: int | None = None  # the streak must end at this session's attendance


def unexcused_streaks(
    patient_ids: Iterable[int] = (),
    *,
    today: date | None = None,
    ending_with: Iterable[Attendance] = (),
    at_least: int = 2,
    lookback_days: int = ABSENCE_LOOKBACK_DAYS,
) -> list[AbsenceStreak]:
    """Unexcused absences in a row (the classic "two no-shows in a row"), in one query.

    A streak ends either at each patient's latest recorded attendance up to ``today``
    (``patient_ids``: the staff home's alert), or at a given attendance row
    (``ending_with``, its ``session`` loaded: the counselor's reminder asks whether
    this absence is the second in a row). Only sessions that took place count;
    attendance more than ``lookback_days`` before the streak's end is not looked at.
    """
    ends = [_StreakEnd(pid, today) for pid in dict.fromkeys(patient_ids) if today is not None]
    ends += [
        _StreakEnd(a.patient_id, a.session.local_date, a.session.starts_at, a.session_id)
        for a in ending_with
    ]
    if not ends:
        return []
    history: dict[int, list[tuple[str, int, date, datetime]]] = defaultdict(list)
    for patient_id, status, session_id, day, starts_at in (
        Attendance.objects.filter(
            patient_id__in={e.patient_id for e in ends},
            session__local_date__gte=min(e.day for e in ends) - timedelta(days=lookback_days),
            session__local_date__lte=max(e.day for e in ends),
            session__status=SessionStatus.SCHEDULED,
        )
        .order_by("patient_id", "-session__starts_at")
        .values_list(
            "patient_id", "status", "session_id", "session__local_date", "session__starts_at"
        )
    ):
        history[patient_id].append((status, session_id, day, starts_at))
    streaks: list[AbsenceStreak] = []
    for end in sorted(ends, key=lambda e: e.patient_id):
        streak: AbsenceStreak | None = None
        for status, session_id, day, starts_at in history[end.patient_id]:
            if day > end.day or (end.starts_at is not None and starts_at > end.starts_at):
                continue  # after the streak's end
            if day < end.day - timedelta(days=lookback_days):
                break
            if streak is None and end.session_id is not None and session_id != end.session_id:
                break  # the given attendance is not on a session that took place
            if status != AttendanceStatus.UNEXCUSED:
                break
            if streak is None:
                streak = AbsenceStreak(end.patient_id, 1, session_id, day)
            else:
                streak.count += 1
        if streak is not None and streak.count >= at_least:
            streaks.append(streak)
    return streaks
