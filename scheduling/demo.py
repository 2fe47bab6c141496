"""Demo tracks, their weekly series, five weeks of held sessions with attendance, upcoming
sessions, a couple of individual sessions and a cancellation."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, time, timedelta

from django.core.exceptions import ValidationError

from core.clock import local_datetime
from core.demo import DEMO_STEPS, DemoContext
from patients.models import ProgramLevel, Track, TrackKind, TrackMembership

from .models import (
    Attendance,
    AttendanceChange,
    AttendanceStatus,
    Holiday,
    HolidayStatus,
    Session,
    SessionSeries,
    SessionStatus,
)
from .services.attendance import credited_minutes
from .services.bookings import individual_session_book, session_cancel
from .services.materialization import sessions_materialize
from .services.series import series_create
from .services.site_holidays import HOLIDAY_YEARS_AHEAD, holidays_seed
from .services.weekly_hours import weekly_hours_rebuild

TRACKS = [
    ("IOP Day", TrackKind.DAY, ProgramLevel.IOP, "Room A"),
    ("IOP Evening", TrackKind.EVENING, ProgramLevel.IOP, "Room B"),
    ("PHP Day", TrackKind.DAY, ProgramLevel.PHP, "Room C"),
    ("OP Evening", TrackKind.EVENING, ProgramLevel.OP, "Room B"),
]
# (weekdays, start, end, kind, topic) per track kind; PHP adds an afternoon block so
# its patients can reach the 20-hour weekly minimum.
SERIES = {
    TrackKind.DAY: [(["MO", "WE", "FR"], time(9), time(12), "cbt", "Coping skills")],
    TrackKind.EVENING: [
        (["MO", "TU", "TH"], time(18), time(21), "relapse_prevention", "Triggers and coping plans")
    ],
}
PHP_EXTRA = (["MO", "TU", "WE", "TH", "FR"], time(13), time(15, 30), "dbt", "Distress tolerance")
WEEKS_OF_HISTORY = 5


@DEMO_STEPS.register("setup", order=20)
def seed_setup(ctx: DemoContext) -> None:
    facilitators = {"riverside": ctx.staff["counselor"], "bayview": ctx.staff["counselor2"]}
    start = ctx.today - timedelta(weeks=WEEKS_OF_HISTORY)
    for code, site in ctx.sites.items():
        # Before any session exists, so none is ever held on a holiday; from the first
        # year of the history, which may reach back into last year.
        holidays_seed(
            site=site,
            actor=ctx.staff["director"],
            years=list(range(start.year, ctx.today.year + HOLIDAY_YEARS_AHEAD + 1)),
            now=ctx.now,
        )
        for name, kind, level, room in TRACKS:
            track, _ = Track.objects.get_or_create(
                site=site,
                name=name,
                defaults={
                    "kind": kind,
                    "level": level,
                    "room": room,
                    "capacity": 15,
                    "default_facilitator": facilitators[code],
                },
            )
            if SessionSeries.objects.filter(track=track).exists():
                continue
            plans = list(SERIES[kind]) + ([PHP_EXTRA] if level == ProgramLevel.PHP else [])
            for weekdays, begin, end, session_kind, topic in plans:
                series_create(
                    actor=ctx.staff["director"],
                    track=track,
                    weekdays=weekdays,
                    start_time=begin,
                    end_time=end,
                    starts_on=start,
                    kind=session_kind,
                    topic=topic,
                    now=ctx.now,
                )
        # The held weeks too (the hourly job only ever looks ahead).
        sessions_materialize(site=site, now=ctx.now, first=start)
    ctx.log.append("Scheduling: weekly series for 4 tracks per site, sessions materialized.")


def _attendance_for(ctx: DemoContext, session: Session, patient_id: int) -> Attendance:
    """A realistic mix: mostly present, some late or leaving early, a few absences."""
    roll = ctx.rng.random()
    status, arrived, left = AttendanceStatus.PRESENT, None, None
    if roll < 0.08:
        status = AttendanceStatus.LATE
        arrived = session.starts_at + timedelta(minutes=ctx.rng.choice([10, 15, 20, 30, 45]))
    elif roll < 0.13:
        status = AttendanceStatus.LEFT_EARLY
        left = session.ends_at - timedelta(minutes=ctx.rng.choice([30, 45, 60]))
    elif roll < 0.17:
        status = AttendanceStatus.EXCUSED
    elif roll < 0.22:
        status = AttendanceStatus.UNEXCUSED
    minutes = credited_minutes(session, status, arrived, left)
    return Attendance(
        session=session,
        patient_id=patient_id,
        status=status,
        arrived_at=arrived,
        left_at=left,
        minutes_credited=minutes,
        recorded_by_id=session.facilitator_id,
        recorded_at=session.ends_at,
        updated_at=session.ends_at,
    )


@DEMO_STEPS.register("history", order=20)
def seed(ctx: DemoContext) -> None:
    sites = list(ctx.sites.values())
    if Attendance.objects.filter(session__site__in=sites).exists():
        return
    first = ctx.today - timedelta(weeks=WEEKS_OF_HISTORY)
    held = list(
        Session.objects.filter(
            site__in=sites,
            local_date__gte=first,
            local_date__lt=ctx.today,
            status=SessionStatus.SCHEDULED,
            track__isnull=False,
        ).order_by("starts_at")
    )
    memberships = list(TrackMembership.objects.filter(track__site__in=sites))
    rows = []
    for session in held:
        for m in memberships:
            if m.track_id == session.track_id and m.covers(session.local_date):
                rows.append(_attendance_for(ctx, session, m.patient_id))
    Attendance.objects.bulk_create(rows, batch_size=1000)
    saved = Attendance.objects.filter(session__in=held)
    AttendanceChange.objects.bulk_create(
        [
            AttendanceChange(
                attendance=a,
                changed_by_id=a.recorded_by_id,
                changed_at=a.recorded_at,
                to_status=a.status,
                to_minutes=a.minutes_credited,
            )
            for a in saved
        ],
        batch_size=1000,
    )
    # The bulk insert bypassed the attendance services: the weekly totals follow here.
    weekly_hours_rebuild(first=first, last=ctx.today, now=ctx.now)
    _individual_sessions(ctx)
    _cancellation(ctx)
    ctx.log.append(
        f"Scheduling: {len(held)} past sessions with {len(rows)} attendance records, "
        "individual sessions and a cancellation."
    )


def _next_weekday(day: date, weekday: int, closed: Collection[date] = frozenset()) -> date:
    day = day + timedelta(days=(weekday - day.weekday()) % 7 or 7)
    while day in closed:
        day += timedelta(weeks=1)
    return day


def _individual_sessions(ctx: DemoContext) -> None:
    site = ctx.sites["riverside"]
    patients = [p for p in ctx.patients if p.site_id == site.pk][:2]
    if len(patients) < 2:
        return
    closed = frozenset(
        Holiday.objects.filter(
            site=site, status=HolidayStatus.CLOSED, date__gt=ctx.today
        ).values_list("date", flat=True)
    )
    tuesday = _next_weekday(ctx.today, 1, closed)
    wednesday = _next_weekday(ctx.today, 2, closed)
    bookings = [
        (patients[0], "individual", ctx.staff["counselor"], tuesday, time(16), time(16, 50)),
        (patients[1], "medication", ctx.staff["nurse"], wednesday, time(14), time(14, 30)),
        (patients[0], "family", ctx.staff["counselor"], wednesday, time(16), time(17)),
    ]
    for patient, kind, staff, day, begin, end in bookings:
        try:
            individual_session_book(
                actor=staff,
                patient=patient,
                kind=kind,
                starts_at=local_datetime(day, begin, site.tz),
                ends_at=local_datetime(day, end, site.tz),
                facilitator=staff,
                room="Office 2" if kind == "medication" else "Office 1",
                now=ctx.now,
            )
        except ValidationError:
            continue  # the demo patient happens to be busy then; the demo does not need it


def _cancellation(ctx: DemoContext) -> None:
    site = ctx.sites["riverside"]
    upcoming = (
        Session.objects.filter(
            site=site,
            track__name="IOP Evening",
            local_date__gt=ctx.today,
            status=SessionStatus.SCHEDULED,
        )
        .order_by("starts_at")
        .first()
    )
    if upcoming is not None:
        session_cancel(
            actor=ctx.staff["director"],
            session=upcoming,
            reason="Facilitator at a training day",
            now=ctx.now,
        )
