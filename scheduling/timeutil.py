"""Site-local calendar arithmetic. Every schedule is computed in the site's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from django.utils import timezone

from core.models import Site


def site_now(site: Site, now: datetime | None = None) -> datetime:
    return (now or timezone.now()).astimezone(site.tz)


def site_today(site: Site, now: datetime | None = None) -> date:
    return site_now(site, now).date()


def local_datetime(site: Site, day: date, at: time) -> datetime:
    """The aware instant of a site-local wall-clock time.

    Round-tripping through UTC normalises a wall time that does not exist (the hour
    skipped when clocks go forward) to the real instant after the gap.
    """
    naive = datetime.combine(day, at)
    return naive.replace(tzinfo=site.tz).astimezone(UTC).astimezone(site.tz)


def week_start(day: date) -> date:
    """Monday of the week containing ``day`` (weeks start on Monday)."""
    return day - timedelta(days=day.weekday())


def week_bounds(site: Site, monday: date) -> tuple[datetime, datetime]:
    """Aware instants of Monday 00:00 and the next Monday 00:00, local to the site."""
    return (
        local_datetime(site, monday, time()),
        local_datetime(site, monday + timedelta(days=7), time()),
    )


def parse_week(value: str | None, fallback: date) -> date:
    """A ``YYYY-MM-DD`` query parameter, snapped to its Monday; bad input falls back."""
    if value:
        try:
            return week_start(date.fromisoformat(value))
        except ValueError:
            pass
    return week_start(fallback)
