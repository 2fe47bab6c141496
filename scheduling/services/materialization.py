"""Turning series into dated sessions, weeks ahead, per site."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Q

from core import clock
from core.clock import local_datetime, site_today
from core.models import Site

from ..models import Holiday, HolidayStatus, Session, SessionSeries, SessionStatus, SiteSchedule


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
