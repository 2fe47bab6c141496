"""The one clock: "now", "today at a site", and site-local calendar arithmetic.

Every time a person types or reads is the site's local time, and every schedule is
computed in the site's time zone, so the helpers here take a site (or its zone) and never
the server's zone. Services take ``now`` as a keyword and fall back to :func:`now`; pages,
panels and tasks, which cannot be handed a time, call :func:`now` directly. Tests freeze
the one underlying clock (``STEPWISE_TEST_NOW``) rather than patching helpers.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from django.utils import timezone

from .validators import date_in_range


class HasZone(Protocol):
    @property
    def tz(self) -> ZoneInfo: ...


def now(given: datetime | None = None) -> datetime:
    """``given`` when a caller passed one (services take ``now``), else the current instant."""
    return given or timezone.now()


def site_now(site: HasZone, given: datetime | None = None) -> datetime:
    """The current instant as the site's wall clock shows it."""
    return now(given).astimezone(site.tz)


def site_today(site: HasZone, given: datetime | None = None) -> date:
    """The date on the site's wall calendar (not the server's, not UTC's)."""
    return site_now(site, given).date()


def local_datetime(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The aware instant of wall-clock ``at`` on ``day`` in ``tz``.

    A wall time that does not exist (the hour skipped when clocks go forward) is moved
    forward by the gap; an ambiguous one (the hour repeated when they go back) takes its
    first occurrence. Both go through UTC so the result is a real instant.
    """
    naive = datetime.combine(day, at).replace(tzinfo=tz, fold=0)
    return naive.astimezone(UTC).astimezone(tz)


def week_start(day: date) -> date:
    """Monday of the week containing ``day`` (the clinic's weeks start on Monday)."""
    return day - timedelta(days=day.weekday())


def week_bounds(monday: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Aware instants of local Monday 00:00 and the next Monday 00:00 (a DST week is
    167 or 169 hours long; compare stored UTC values against these)."""
    return local_datetime(monday, time(), tz), local_datetime(
        monday + timedelta(days=7), time(), tz
    )


def local_week_of(moment: datetime, tz: ZoneInfo) -> date:
    """Monday of the local week an instant falls in."""
    return week_start(moment.astimezone(tz).date())


def parse_week(value: str | None, fallback: date) -> date:
    """A ``YYYY-MM-DD`` query parameter, snapped to its Monday; bad input falls back,
    and so does a week outside 1900-2199 (its bounds would overflow a ``date``)."""
    if value:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            pass
        else:
            if date_in_range(day) and date_in_range(day + timedelta(days=7)):
                return week_start(day)
    return week_start(fallback)
