"""Weekly series of a track's group sessions: create, change from a date on, end."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from dateutil.rrule import rrulestr
from django.core.exceptions import ValidationError
from django.db import transaction

from core import audit, clock
from core.clock import site_today
from core.models import User
from core.validators import require_dates_in_range
from patients.models import Track

from ..models import (
    GROUP_KINDS,
    WEEKDAY_CODES,
    WEEKDAY_NAMES,
    Holiday,
    HolidayStatus,
    Session,
    SessionSeries,
    SessionStatus,
    SiteSchedule,
)
from ._common import _works_at
from .materialization import sessions_materialize


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
    require_dates_in_range(starts_on=starts_on, ends_on=ends_on)
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
    require_dates_in_range(effective_date=effective_date, ends_on=ends_on)
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
