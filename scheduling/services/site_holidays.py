"""Writes for scheduling: series, materialization, bookings, cancellations, attendance.

Every function is keyword-only and atomic, validates its input (``ValidationError``
with field names the forms show) and writes its audit row in the same transaction.
Time-dependent functions take ``now``.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta

import holidays
from dateutil.rrule import rrulestr
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet

from core import audit, clock
from core.clock import local_datetime, site_today
from core.formats import format_day, format_time, format_when
from core.models import Site, User
from patients.models import Patient, Track, TrackMembership

from ..models import (
    ATTENDED_STATUSES,
    GROUP_KINDS,
    INDIVIDUAL_KINDS,
    WEEKDAY_CODES,
    WEEKDAY_NAMES,
    Attendance,
    AttendanceChange,
    AttendanceStatus,
    CalendarFeed,
    Holiday,
    HolidaySource,
    HolidayStatus,
    Session,
    SessionSeries,
    SessionStatus,
    SiteSchedule,
)
from ..selectors import session_roster_patients

logger = logging.getLogger(__name__)


def _minutes(start: datetime, end: datetime) -> int:
    return int((end - start).total_seconds() // 60)


def _works_at(user: User | None, site: Site) -> bool:
    if user is None:
        return True
    staff = user.staff
    if staff is None or not user.is_active:
        return False
    return staff.sees_all_sites or staff.sites.filter(pk=site.pk).exists()


# --- series ----------------------------------------------------------------


def build_rrule(weekdays: list[str]) -> str:
    codes = [c for c in WEEKDAY_CODES if c in {w.upper() for w in weekdays}]
    return f"FREQ=WEEKLY;BYDAY={','.join(codes)}"


def _validate_series(
    *,
    track: Track,
    kind: str,
    weekdays: list[str],
    start_time: time,
    end_time: time,
    starts_on: date,
    ends_on: date | None,
    facilitator: User | None,
) -> str:
    errors: dict[str, str] = {}
    if kind not in GROUP_KINDS:
        errors["kind"] = "A track's series is a group session; book individual sessions one by one."
    unknown = [w for w in weekdays if w.upper() not in WEEKDAY_CODES]
    if not weekdays or unknown:
        errors["weekdays"] = "Choose at least one day of the week."
    else:
        open_days = SiteSchedule.for_site(track.site).open_weekdays
        closed = [
            WEEKDAY_NAMES[WEEKDAY_CODES.index(w.upper())]
            for w in weekdays
            if WEEKDAY_CODES.index(w.upper()) not in open_days
        ]
        if closed:
            errors["weekdays"] = f"{track.site} is closed on {', '.join(closed)}."
    if end_time <= start_time:
        errors["end_time"] = "The session must end after it starts."
    if ends_on is not None and ends_on < starts_on:
        errors["ends_on"] = "The series cannot end before it starts."
    if facilitator is not None and not _works_at(facilitator, track.site):
        errors["facilitator"] = "That facilitator does not work at this site."
    if errors:
        raise ValidationError(errors)
    rule = build_rrule(weekdays)
    rrulestr(rule, dtstart=datetime.combine(starts_on, start_time))  # must parse
    return rule


@transaction.atomic
def series_create(
    *,
    actor: User | None,
    track: Track,
    weekdays: list[str],
    start_time: time,
    end_time: time,
    starts_on: date,
    kind: str = "group",
    topic: str = "",
    ends_on: date | None = None,
    facilitator: User | None = None,
    room: str = "",
    now: datetime | None = None,
) -> SessionSeries:
    now = clock.now(now)
    rule = _validate_series(
        track=track,
        kind=kind,
        weekdays=weekdays,
        start_time=start_time,
        end_time=end_time,
        starts_on=starts_on,
        ends_on=ends_on,
        facilitator=facilitator,
    )
    series = SessionSeries.objects.create(
        track=track,
        kind=kind,
        topic=topic,
        rrule=rule,
        start_time=start_time,
        end_time=end_time,
        starts_on=starts_on,
        ends_on=ends_on,
        facilitator=facilitator or track.default_facilitator,
        room=room or track.room,
        created_at=now,
        updated_at=now,
    )
    audit.record(action="series.created", actor=actor, site_id=track.site_id, obj=series)
    sessions_materialize(site=track.site, now=now, series_ids=[series.pk])
    return series


@transaction.atomic
def series_update(
    *,
    actor: User | None,
    series: SessionSeries,
    effective_date: date,
    weekdays: list[str],
    start_time: time,
    end_time: time,
    kind: str,
    topic: str = "",
    ends_on: date | None = None,
    facilitator: User | None = None,
    room: str = "",
    now: datetime | None = None,
) -> SessionSeries:
    """Change a series from ``effective_date`` on; earlier sessions keep their times.

    The series is split: the old one ends the day before and a new one carries the
    change. Sessions of the old series from that date on that were not held (no
    attendance) are taken off the schedule; the new series materializes its own.
    """
    now = clock.now(now)
    series = (
        SessionSeries.objects.select_for_update().select_related("track__site").get(pk=series.pk)
    )
    track = series.track
    today = site_today(track.site, now)
    if effective_date < today:
        raise ValidationError(
            {"effective_date": "A series change applies from today on; past sessions stay."}
        )
    if series.ends_on is not None and effective_date > series.ends_on:
        raise ValidationError({"effective_date": "The series has ended by then."})
    starts_on = max(effective_date, series.starts_on)
    rule = _validate_series(
        track=track,
        kind=kind,
        weekdays=weekdays,
        start_time=start_time,
        end_time=end_time,
        starts_on=starts_on,
        ends_on=ends_on,
        facilitator=facilitator,
    )
    stale = Session.objects.filter(
        series=series, local_date__gte=starts_on, status=SessionStatus.SCHEDULED
    ).exclude(attendance__isnull=False)
    stale.update(status=SessionStatus.REMOVED, status_reason="Series changed")
    # The old rule's sessions on the site's holidays go too: the new rule creates its
    # own (cancelled) for the days it meets, so the calendar shows no day of the old one.
    closed = Holiday.objects.filter(
        site=track.site, status=HolidayStatus.CLOSED, date__gte=starts_on
    ).values("date")
    Session.objects.filter(
        series=series,
        local_date__gte=starts_on,
        status=SessionStatus.CANCELLED,
        occurrence_date__in=closed,
        local_date__in=closed,
    ).exclude(attendance__isnull=False).update(
        status=SessionStatus.REMOVED, status_reason="Series changed"
    )
    if starts_on > series.starts_on:
        series.ends_on = starts_on - timedelta(days=1)
    else:
        # Not started yet: nothing was held under the old rule; retire it whole.
        series.is_active = False
    series.updated_at = now
    series.save(update_fields=["ends_on", "is_active", "updated_at"])
    new = SessionSeries.objects.create(
        track=track,
        kind=kind,
        topic=topic,
        rrule=rule,
        start_time=start_time,
        end_time=end_time,
        starts_on=starts_on,
        ends_on=ends_on,
        facilitator=facilitator or track.default_facilitator,
        room=room or track.room,
        created_at=now,
        updated_at=now,
    )
    audit.record(
        action="series.changed",
        actor=actor,
        site_id=track.site_id,
        obj=new,
        detail={"from_series": series.pk, "effective_date": effective_date.isoformat()},
    )
    sessions_materialize(site=track.site, now=now, series_ids=[new.pk])
    return new


@transaction.atomic
def series_end(
    *, actor: User | None, series: SessionSeries, last_date: date, now: datetime | None = None
) -> SessionSeries:
    """Stop a series after ``last_date``; later sessions not yet held are removed."""
    now = clock.now(now)
    series = SessionSeries.objects.select_for_update().select_related("track").get(pk=series.pk)
    if last_date < site_today(series.track.site, now) - timedelta(days=1):
        raise ValidationError({"last_date": "A series can only be ended from today on."})
    if last_date < series.starts_on:
        last_date = series.starts_on
    series.ends_on = last_date
    series.updated_at = now
    series.save(update_fields=["ends_on", "updated_at"])
    Session.objects.filter(
        series=series, local_date__gt=last_date, status=SessionStatus.SCHEDULED
    ).exclude(attendance__isnull=False).update(
        status=SessionStatus.REMOVED, status_reason="Series ended"
    )
    audit.record(action="series.ended", actor=actor, site_id=series.track.site_id, obj=series)
    return series


# --- materialization -------------------------------------------------------


def sessions_materialize(
    *,
    site: Site,
    now: datetime | None = None,
    weeks: int | None = None,
    first: date | None = None,
    series_ids: list[int] | None = None,
) -> int:
    """Create the site's sessions from ``first`` (default today) to ``weeks`` ahead.

    Idempotent: the (series, occurrence_date) unique constraint makes a second run, or
    a concurrent one, create nothing twice. A holiday's sessions are created cancelled,
    so patients see why there is no session that day.
    """
    now = clock.now(now)
    rules = SiteSchedule.for_site(site)
    today = site_today(site, now)
    first = first or today
    last = today + timedelta(weeks=weeks or rules.weeks_ahead)
    series_qs = SessionSeries.objects.filter(
        track__site=site, track__is_active=True, is_active=True, starts_on__lte=last
    ).filter(Q(ends_on__isnull=True) | Q(ends_on__gte=first))
    if series_ids is not None:
        series_qs = series_qs.filter(pk__in=series_ids)
    series_list = list(series_qs.select_related("track"))
    if not series_list:
        return 0
    holidays = dict(
        Holiday.objects.filter(
            site=site, status=HolidayStatus.CLOSED, date__gte=first, date__lte=last
        ).values_list("date", "name")
    )
    existing = set(
        Session.objects.filter(
            series__in=series_list, occurrence_date__gte=first, occurrence_date__lte=last
        ).values_list("series_id", "occurrence_date")
    )
    open_days = rules.open_weekdays
    new = []
    for series in series_list:
        track = series.track
        for day in series.occurrence_dates(first, last):
            if (series.pk, day) in existing or day.weekday() not in open_days:
                continue
            holiday = holidays.get(day)
            new.append(
                Session(
                    site=site,
                    track=track,
                    series=series,
                    occurrence_date=day,
                    local_date=day,
                    starts_at=local_datetime(day, series.start_time, site.tz),
                    ends_at=local_datetime(day, series.end_time, site.tz),
                    kind=series.kind,
                    topic=series.topic,
                    facilitator_id=series.facilitator_id,
                    room=series.room,
                    video_link=track.video_link,
                    capacity=track.capacity,
                    status=SessionStatus.CANCELLED if holiday else SessionStatus.SCHEDULED,
                    status_reason=f"Holiday: {holiday}" if holiday else "",
                    created_at=now,
                )
            )
    Session.objects.bulk_create(new, ignore_conflicts=True, batch_size=500)
    return len(new)


def materialize_all(*, now: datetime | None = None) -> int:
    total = 0
    for site in Site.objects.filter(is_active=True):
        # Durable: one commit per site, so a run never holds every site's new rows (and
        # their locks) until the last site is done, nor loses them all with the last.
        with transaction.atomic(durable=True):
            total += sessions_materialize(site=site, now=now)
    return total


# --- holidays, cancellations, moves ----------------------------------------


# Public holidays are seeded for the site's current year and this many after it, so the
# weeks that sessions are materialized ahead (at most 26) are always covered.
HOLIDAY_YEARS_AHEAD = 2


def holiday_bounds(site: Site, now: datetime | None = None) -> tuple[date, date]:
    """The days a holiday may be added, removed or restored: from today to the end of
    the seeded years. Past days stay as they were: their sessions were held or not."""
    today = site_today(site, now)
    return today, date(today.year + HOLIDAY_YEARS_AHEAD, 12, 31)


def _public_holidays(site: Site, years: list[int]) -> dict[date, str]:
    country = (site.country or "").strip().upper()
    subdivision = (site.subdivision or "").strip().upper() or None
    try:
        found = holidays.country_holidays(country, subdiv=subdivision, years=years)
    except NotImplementedError:
        if subdivision is None:
            logger.warning("holidays: no public calendar for country %r (%s)", country, site)
            return {}
        # A mistyped state must not leave the site without its national holidays.
        logger.warning("holidays: unknown subdivision %r of %r (%s)", subdivision, country, site)
        return _public_holidays_of_country(country, years, site)
    return {day: name[:80] for day, name in found.items()}


def _public_holidays_of_country(country: str, years: list[int], site: Site) -> dict[date, str]:
    try:
        found = holidays.country_holidays(country, years=years)
    except NotImplementedError:
        logger.warning("holidays: no public calendar for country %r (%s)", country, site)
        return {}
    return {day: name[:80] for day, name in found.items()}


def _cancel_sessions_on(
    *, actor: User | None, site: Site, day: date, name: str, now: datetime
) -> int:
    """Cancel the day's sessions that have not started, one by one through
    ``session_cancel``: its audit row, and its save tells notifications to re-plan the
    patients' reminders. A session already under way or held keeps its attendance."""
    sessions = Session.objects.filter(
        site=site,
        local_date=day,
        status=SessionStatus.SCHEDULED,
        starts_at__gt=now,
        attendance__isnull=True,
    ).order_by("starts_at", "pk")
    count = 0
    for session in sessions:
        session_cancel(actor=actor, session=session, reason=f"Holiday: {name}", now=now)
        count += 1
    return count


def _lock_site(site: Site) -> None:
    # Seeding, adding and restoring a site's holidays are serialised per site, so the
    # count of days added (and their audit row) is exact under concurrent runs.
    Site.objects.select_for_update().filter(pk=site.pk).exists()


@transaction.atomic
def holidays_seed(
    *,
    site: Site,
    actor: User | None = None,
    years: list[int] | None = None,
    now: datetime | None = None,
) -> int:
    """Add the site's public holidays (country and state) for ``years`` (default: the
    site's current year and the next two). Returns the number of days added.

    Idempotent: a day the site already has, closed or removed by the director, is left
    alone, so a removed day never comes back. Sessions already scheduled on a new day
    are cancelled as if the director had added it.
    """
    now = clock.now(now)
    today = site_today(site, now)
    years = sorted(set(years or range(today.year, today.year + HOLIDAY_YEARS_AHEAD + 1)))
    public = _public_holidays(site, years)
    if not public:
        return 0
    _lock_site(site)
    known = set(
        Holiday.objects.filter(site=site, date__in=list(public)).values_list("date", flat=True)
    )
    new = [
        Holiday(
            site=site,
            date=day,
            name=name,
            status=HolidayStatus.CLOSED,
            source=HolidaySource.PUBLIC,
            created_at=now,
            updated_at=now,
        )
        for day, name in sorted(public.items())
        if day not in known
    ]
    if not new:
        return 0
    Holiday.objects.bulk_create(new)
    cancelled = sum(
        _cancel_sessions_on(actor=actor, site=site, day=h.date, name=h.name, now=now)
        for h in new
        if h.date >= today
    )
    audit.record(
        action="holiday.seeded",
        actor=actor,
        site_id=site.pk,
        detail={
            "years": years,
            "added": [h.date.isoformat() for h in new],
            "cancelled_sessions": cancelled,
        },
    )
    return len(new)


def holidays_top_up_all(*, now: datetime | None = None) -> int:
    """Seed every active site's coming years (the daily beat job); extra runs add nothing."""
    total = 0
    for site in Site.objects.filter(is_active=True).order_by("pk"):
        # Durable (and outside the try, so misuse is not logged away as a site's failure):
        # each site's days are committed, and its site lock released, before the next's.
        with transaction.atomic(durable=True):
            try:
                total += holidays_seed(site=site, now=now)
            except Exception:
                # One site's failure must not keep the other sites' calendars from filling.
                logger.exception("holidays: top-up failed for site %s", site.pk)
    return total


def _validate_holiday_day(site: Site, day: date, now: datetime) -> None:
    first, last = holiday_bounds(site, now)
    if not first <= day <= last:
        raise ValidationError(
            {"date": f"Choose a day from {format_day(first)} to {format_day(last)}."}
        )


def holiday_check(*, site: Site, day: date, now: datetime | None = None) -> None:
    """Refuse a day ``holiday_add`` would refuse, for a form to show before it saves
    (the admin's add form calls it; a refusal must be a message, never a server error)."""
    _validate_holiday_day(site, day, clock.now(now))
    existing = Holiday.objects.filter(site=site, date=day, status=HolidayStatus.CLOSED).first()
    if existing is not None:
        raise ValidationError({"date": f"That day is already a holiday ({existing.name})."})


@transaction.atomic
def holiday_add(
    *, actor: User | None, site: Site, day: date, name: str, now: datetime | None = None
) -> Holiday:
    """Close the site on ``day``: its sessions not yet started are cancelled through
    ``session_cancel`` with the reason "Holiday: <name>". A day the director removed
    earlier is closed again under the new name."""
    now = clock.now(now)
    name = " ".join(name.split())
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = "Name the holiday."
    elif len(name) > 80:
        errors["name"] = "Keep the name to 80 characters."
    try:
        _validate_holiday_day(site, day, now)
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    _lock_site(site)
    holiday = Holiday.objects.filter(site=site, date=day).first()
    if holiday is not None and holiday.is_closed:
        raise ValidationError({"date": f"That day is already a holiday ({holiday.name})."})
    if holiday is None:
        holiday = Holiday.objects.create(
            site=site,
            date=day,
            name=name,
            source=HolidaySource.SITE,
            created_at=now,
            updated_at=now,
        )
    else:
        holiday.name, holiday.status, holiday.updated_at = name, HolidayStatus.CLOSED, now
        holiday.save(update_fields=["name", "status", "updated_at"])
    cancelled = _cancel_sessions_on(actor=actor, site=site, day=day, name=name, now=now)
    audit.record(
        action="holiday.added",
        actor=actor,
        site_id=site.pk,
        obj=holiday,
        detail={"date": day.isoformat(), "name": name, "cancelled_sessions": cancelled},
    )
    return holiday


@transaction.atomic
def holiday_remove(*, actor: User | None, holiday: Holiday, now: datetime | None = None) -> Holiday:
    """Open the site on a holiday (kept as a row, so the yearly top-up leaves it open).

    Sessions already cancelled for it stay cancelled: their patients were told, and a
    session brought back silently would be missed. Staff re-book what they need."""
    now = clock.now(now)
    holiday = Holiday.objects.select_for_update().select_related("site").get(pk=holiday.pk)
    if not holiday.is_closed:
        raise ValidationError("The site is already open that day.")
    _validate_holiday_day(holiday.site, holiday.date, now)
    holiday.status, holiday.updated_at = HolidayStatus.OPEN, now
    holiday.save(update_fields=["status", "updated_at"])
    audit.record(
        action="holiday.removed",
        actor=actor,
        site_id=holiday.site_id,
        obj=holiday,
        detail={"date": holiday.date.isoformat(), "name": holiday.name},
    )
    return holiday


@transaction.atomic
def holiday_restore(
    *, actor: User | None, holiday: Holiday, now: datetime | None = None
) -> Holiday:
    """Close the site again on a removed holiday; its sessions are cancelled as on add."""
    now = clock.now(now)
    holiday = Holiday.objects.select_for_update().select_related("site").get(pk=holiday.pk)
    if holiday.is_closed:
        raise ValidationError("That day is already a holiday.")
    _validate_holiday_day(holiday.site, holiday.date, now)
    holiday.status, holiday.updated_at = HolidayStatus.CLOSED, now
    holiday.save(update_fields=["status", "updated_at"])
    cancelled = _cancel_sessions_on(
        actor=actor, site=holiday.site, day=holiday.date, name=holiday.name, now=now
    )
    audit.record(
        action="holiday.restored",
        actor=actor,
        site_id=holiday.site_id,
        obj=holiday,
        detail={
            "date": holiday.date.isoformat(),
            "name": holiday.name,
            "cancelled_sessions": cancelled,
        },
    )
    return holiday


@transaction.atomic
def session_cancel(
    *, actor: User | None, session: Session, reason: str, now: datetime | None = None
) -> Session:
    session = Session.objects.select_for_update().get(pk=session.pk)
    if session.status != SessionStatus.SCHEDULED:
        raise ValidationError("This session is already cancelled.")
    if not reason.strip():
        raise ValidationError({"reason": "Say why the session is cancelled."})
    if session.attendance.exists():
        raise ValidationError("Attendance was taken at this session; it cannot be cancelled.")
    session.status = SessionStatus.CANCELLED
    session.status_reason = reason.strip()[:200]
    session.save(update_fields=["status", "status_reason"])
    audit.record(
        action="session.cancelled",
        actor=actor,
        site_id=session.site_id,
        patient_id=session.patient_id,
        obj=session,
    )
    return session


def _lock_booking(site: Site, facilitator: User | None, patient: Patient | None) -> None:
    """Serialise bookings that could collide: the site (rooms), the facilitator and the
    patient rows are locked in a fixed order so two bookings cannot both pass the check."""
    Site.objects.select_for_update().filter(pk=site.pk).exists()
    if facilitator is not None:
        list(User.objects.select_for_update().filter(pk=facilitator.pk).values_list("pk"))
    if patient is not None:
        list(Patient.objects.select_for_update().filter(pk=patient.pk).values_list("pk"))


def _overlapping(
    starts_at: datetime, ends_at: datetime, exclude_pk: int | None
) -> QuerySet[Session]:
    qs = Session.objects.filter(
        status=SessionStatus.SCHEDULED, starts_at__lt=ends_at, ends_at__gt=starts_at
    )
    return qs.exclude(pk=exclude_pk) if exclude_pk else qs


def _check_double_booking(
    *,
    site: Site,
    starts_at: datetime,
    ends_at: datetime,
    facilitator: User | None,
    room: str,
    patient: Patient | None,
    exclude_pk: int | None = None,
) -> None:
    errors: dict[str, str] = {}
    overlap = _overlapping(starts_at, ends_at, exclude_pk)
    tz = site.tz

    def when(s: Session) -> str:
        return f"{format_when(s.starts_at, year=False, tz=tz)}-{format_time(s.ends_at, tz=tz)}"

    if facilitator is not None:
        clash = overlap.filter(facilitator=facilitator).first()
        if clash:
            errors["facilitator"] = f"{facilitator} is already booked then ({when(clash)})."
    if room.strip():
        clash = overlap.filter(site=site, room__iexact=room.strip()).first()
        if clash:
            errors["room"] = f"{room} is already booked then ({when(clash)})."
    if patient is not None:
        clash = overlap.filter(patient=patient).first()
        if clash is None:
            local_day = starts_at.astimezone(tz).date()
            track_ids = TrackMembership.objects.filter(
                patient=patient, start_date__lte=local_day
            ).filter(Q(end_date__isnull=True) | Q(end_date__gte=local_day))
            clash = overlap.filter(
                track_id__in=track_ids.values("track_id"), local_date=local_day
            ).first()
        if clash:
            errors["patient"] = f"The patient already has a session then ({when(clash)})."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def individual_session_book(
    *,
    actor: User | None,
    patient: Patient,
    kind: str,
    starts_at: datetime,
    ends_at: datetime,
    facilitator: User,
    room: str = "",
    video_link: str = "",
    topic: str = "",
    now: datetime | None = None,
) -> Session:
    """Book a 1:1, family or medication-management session for one patient."""
    now = clock.now(now)
    site = patient.site
    errors: dict[str, str] = {}
    if kind not in INDIVIDUAL_KINDS:
        errors["kind"] = "Choose an individual session kind."
    if ends_at <= starts_at:
        errors["ends_at"] = "The session must end after it starts."
    elif ends_at - starts_at > timedelta(hours=8):
        errors["ends_at"] = "A session lasts at most 8 hours."
    if starts_at < now - timedelta(days=30):
        errors["starts_at"] = "Sessions more than 30 days in the past cannot be booked."
    if not _works_at(facilitator, site):
        errors["facilitator"] = "That staff member does not work at the patient's site."
    if errors:
        raise ValidationError(errors)
    _lock_booking(site, facilitator, patient)
    _check_double_booking(
        site=site,
        starts_at=starts_at,
        ends_at=ends_at,
        facilitator=facilitator,
        room=room,
        patient=patient,
    )
    session = Session.objects.create(
        site=site,
        patient=patient,
        kind=kind,
        topic=topic,
        local_date=starts_at.astimezone(site.tz).date(),
        starts_at=starts_at,
        ends_at=ends_at,
        facilitator=facilitator,
        room=room.strip(),
        video_link=video_link,
        capacity=1,
        created_at=now,
    )
    audit.record(
        action="session.booked",
        actor=actor,
        patient_id=patient.pk,
        site_id=site.pk,
        obj=session,
        detail={"kind": kind},
    )
    return session


@transaction.atomic
def session_move(
    *,
    actor: User | None,
    session: Session,
    starts_at: datetime,
    ends_at: datetime,
    room: str | None = None,
    facilitator: User | None = None,
    now: datetime | None = None,
) -> Session:
    """Move one occurrence (the series is untouched: only this date changes)."""
    now = clock.now(now)
    session = (
        Session.objects.select_for_update(of=("self",))
        .select_related("site", "patient")
        .get(pk=session.pk)
    )
    errors: dict[str, str] = {}
    if session.status != SessionStatus.SCHEDULED:
        errors["starts_at"] = "A cancelled session cannot be moved."
    if ends_at <= starts_at:
        errors["ends_at"] = "The session must end after it starts."
    if starts_at < now or session.starts_at < now:
        errors["starts_at"] = "Only a session that has not started can be moved to a future time."
    if errors:
        raise ValidationError(errors)
    facilitator = facilitator or session.facilitator
    room = session.room if room is None else room
    _lock_booking(session.site, facilitator, session.patient)
    _check_double_booking(
        site=session.site,
        starts_at=starts_at,
        ends_at=ends_at,
        facilitator=facilitator,
        room=room,
        patient=session.patient,
        exclude_pk=session.pk,
    )
    session.starts_at, session.ends_at = starts_at, ends_at
    session.local_date = starts_at.astimezone(session.site.tz).date()
    session.facilitator, session.room, session.is_moved = facilitator, room, True
    session.save()
    audit.record(
        action="session.moved",
        actor=actor,
        site_id=session.site_id,
        patient_id=session.patient_id,
        obj=session,
    )
    return session


@transaction.atomic
def session_note_save(
    *, actor: User | None, session: Session, group_note: str, now: datetime | None = None
) -> Session:
    session = Session.objects.select_for_update().get(pk=session.pk)
    session.group_note = group_note
    session.save(update_fields=["group_note"])
    audit.record(action="session.note_saved", actor=actor, site_id=session.site_id, obj=session)
    return session


# --- attendance ------------------------------------------------------------


def credited_minutes(
    session: Session, status: str, arrived_at: datetime | None, left_at: datetime | None
) -> int:
    """Minutes actually attended: from arrival (or the start) to departure (or the end)."""
    if status not in ATTENDED_STATUSES:
        return 0
    start = max(arrived_at or session.starts_at, session.starts_at)
    end = min(left_at or session.ends_at, session.ends_at)
    return max(0, _minutes(start, end))


def _validate_attendance(
    session: Session,
    status: str,
    arrived_at: datetime | None,
    left_at: datetime | None,
) -> None:
    errors: dict[str, str] = {}
    if status not in AttendanceStatus.values:
        errors["status"] = "Choose an attendance status."
    if status not in ATTENDED_STATUSES and (arrived_at or left_at):
        errors["status"] = "An absence has no arrival or departure time."
    tz = session.site.tz
    window = f"{format_time(session.starts_at, tz=tz)}-{format_time(session.ends_at, tz=tz)}"
    for name, value in (("arrived_at", arrived_at), ("left_at", left_at)):
        if value is not None and not (session.starts_at <= value <= session.ends_at):
            errors[name] = f"The time must be within the session ({window})."
    if arrived_at and left_at and left_at <= arrived_at and "left_at" not in errors:
        errors["left_at"] = "Departure must be after arrival."
    late_without_time = arrived_at is None or arrived_at <= session.starts_at
    if status == AttendanceStatus.LATE and "arrived_at" not in errors and late_without_time:
        errors["arrived_at"] = "A late arrival needs the time the patient arrived."
    early_without_time = left_at is None or left_at >= session.ends_at
    if status == AttendanceStatus.LEFT_EARLY and "left_at" not in errors and early_without_time:
        errors["left_at"] = "Leaving early needs the time the patient left."
    if errors:
        raise ValidationError(errors)


def _require_session_open(session: Session, now: datetime, reason: str) -> None:
    if session.status != SessionStatus.SCHEDULED:
        raise ValidationError("A cancelled session takes no attendance (it is not an absence).")
    if now < session.starts_at - timedelta(minutes=15):
        raise ValidationError("This session has not started yet.")
    rules = SiteSchedule.for_site(session.site)
    age = (site_today(session.site, now) - session.local_date).days
    if age > rules.attendance_edit_days and not reason.strip():
        raise ValidationError(
            {
                "reason": f"This session is more than {rules.attendance_edit_days} days old: "
                "say why attendance is being entered or changed."
            }
        )


def _write_attendance(
    *,
    actor: User | None,
    session: Session,
    patient: Patient,
    status: str,
    arrived_at: datetime | None,
    left_at: datetime | None,
    note: str | None,
    reason: str,
    now: datetime,
    is_guest: bool = False,
) -> Attendance:
    minutes = credited_minutes(session, status, arrived_at, left_at)
    row = Attendance.objects.select_for_update().filter(session=session, patient=patient).first()
    before_status, before_minutes = (row.status, row.minutes_credited) if row else ("", None)
    if row is None:
        row = Attendance(
            session=session,
            patient=patient,
            recorded_at=now,
            recorded_by=actor,
            is_guest=is_guest,
        )
    elif (
        row.status == status
        and row.arrived_at == arrived_at
        and row.left_at == left_at
        and (note is None or row.note == note)
    ):
        return row  # nothing changed: no history row, no audit noise
    row.status, row.arrived_at, row.left_at = status, arrived_at, left_at
    row.minutes_credited = minutes
    if note is not None:
        row.note = note
    row.updated_at = now
    row.save()
    AttendanceChange.objects.create(
        attendance=row,
        changed_by=actor,
        changed_at=now,
        from_status=before_status,
        to_status=status,
        from_minutes=before_minutes,
        to_minutes=minutes,
        reason=reason.strip(),
    )
    audit.record(
        action="attendance.recorded" if before_status == "" else "attendance.changed",
        actor=actor,
        patient_id=patient.pk,
        site_id=session.site_id,
        obj=row,
        detail={"session": session.pk, "status": status, "late_entry": bool(reason.strip())},
    )
    return row


def _locked_session(session: Session) -> Session:
    return Session.objects.select_for_update(of=("self",)).select_related("site").get(pk=session.pk)


@transaction.atomic
def attendance_record(
    *,
    actor: User | None,
    session: Session,
    patient: Patient,
    status: str,
    arrived_at: datetime | None = None,
    left_at: datetime | None = None,
    note: str | None = None,
    reason: str = "",
    now: datetime | None = None,
) -> Attendance:
    """Record or correct one patient's attendance; every write is kept in the history."""
    now = clock.now(now)
    session = _locked_session(session)
    _require_session_open(session, now, reason)
    _validate_attendance(session, status, arrived_at, left_at)
    if patient.pk not in {p.pk for p in session_roster_patients(session)}:
        raise ValidationError(
            {"patient": "That patient is not on this session's roster; add them as make-up."}
        )
    return _write_attendance(
        actor=actor,
        session=session,
        patient=patient,
        status=status,
        arrived_at=arrived_at,
        left_at=left_at,
        note=note,
        reason=reason,
        now=now,
    )


@transaction.atomic
def attendance_mark_all_present(
    *, actor: User | None, session: Session, reason: str = "", now: datetime | None = None
) -> int:
    """Mark everyone on the roster not yet marked as present (existing marks are kept)."""
    now = clock.now(now)
    session = _locked_session(session)
    _require_session_open(session, now, reason)
    marked = set(Attendance.objects.filter(session=session).values_list("patient_id", flat=True))
    count = 0
    for patient in session_roster_patients(session):
        if patient.pk in marked:
            continue
        _write_attendance(
            actor=actor,
            session=session,
            patient=patient,
            status=AttendanceStatus.PRESENT,
            arrived_at=None,
            left_at=None,
            note=None,
            reason=reason,
            now=now,
        )
        count += 1
    return count


@transaction.atomic
def attendance_add_guest(
    *,
    actor: User | None,
    session: Session,
    patient: Patient,
    status: str = AttendanceStatus.PRESENT,
    arrived_at: datetime | None = None,
    left_at: datetime | None = None,
    reason: str = "",
    now: datetime | None = None,
) -> Attendance:
    """A make-up attendee from another track of the same site, within the capacity."""
    now = clock.now(now)
    session = _locked_session(session)
    _require_session_open(session, now, reason)
    if session.is_individual:
        raise ValidationError({"patient": "An individual session has one patient."})
    if patient.site_id != session.site_id:
        raise ValidationError({"patient": "That patient belongs to another site."})
    roster = session_roster_patients(session)
    if patient.pk in {p.pk for p in roster}:
        raise ValidationError({"patient": "That patient is already on the roster."})
    if len(roster) >= session.capacity:
        raise ValidationError(
            {"patient": f"The session is full ({session.capacity} places on the roster)."}
        )
    if status not in ATTENDED_STATUSES:
        raise ValidationError({"status": "A make-up attendee is recorded as attending."})
    _validate_attendance(session, status, arrived_at, left_at)
    return _write_attendance(
        actor=actor,
        session=session,
        patient=patient,
        status=status,
        arrived_at=arrived_at,
        left_at=left_at,
        note=None,
        reason=reason,
        now=now,
        is_guest=True,
    )


# --- calendar feed ---------------------------------------------------------


@transaction.atomic
def calendar_feed_issue(*, patient: Patient, now: datetime | None = None) -> CalendarFeed:
    """A new personal feed URL; any earlier one stops working at once."""
    now = clock.now(now)
    CalendarFeed.objects.select_for_update().filter(
        patient=patient, revoked_at__isnull=True
    ).update(revoked_at=now)
    feed = CalendarFeed.objects.create(patient=patient, created_at=now)
    audit.record(
        action="calendar_feed.issued",
        actor=patient.user,
        patient_id=patient.pk,
        site_id=patient.site_id,
        obj=feed,
    )
    return feed


@transaction.atomic
def calendar_feed_revoke(*, patient: Patient, now: datetime | None = None) -> int:
    now = clock.now(now)
    count = CalendarFeed.objects.filter(patient=patient, revoked_at__isnull=True).update(
        revoked_at=now
    )
    if count:
        audit.record(
            action="calendar_feed.revoked",
            actor=patient.user,
            patient_id=patient.pk,
            site_id=patient.site_id,
        )
    return count
