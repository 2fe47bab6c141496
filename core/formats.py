"""One way to write dates and times, for pages and messages alike.

Days read "Wed Nov 25, 2026" (or "Wed Nov 25" where the year is obvious), times "6:00 PM"
or, where the site chose a 24-hour clock, "18:00". Every instant is shown in a site's
zone: the viewer's (set per request by ``core.middleware.SiteTimezoneMiddleware``) unless
the caller names the site the thing happens at. Formats go through Django's dateformat,
so month and day names follow the active language, and Spanish puts the day before the
month ("mié 25 nov 2026").
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import UTC, date, datetime, time, tzinfo

from django.utils import dateformat, timezone
from django.utils.translation import get_language

DAY = "D M j, Y"
DAY_SHORT = "D M j"
# Spanish puts the day before the month: "mié 25 nov 2026", "mié 25 nov".
DAYS_BY_LANGUAGE = {"es": (r"D j M Y", r"D j M")}
TIME_12 = "g:i A"
TIME_24 = "H:i"

# The viewer's site's choice of clock, set for the length of a request.
clock_24h: ContextVar[bool] = ContextVar("clock_24h", default=False)


def _local(value: datetime, tz: tzinfo | None) -> datetime:
    if timezone.is_naive(value):
        return value
    try:
        return value.astimezone(tz) if tz is not None else timezone.localtime(value)
    except OverflowError:
        # A stored instant at the edge of the calendar (year 1, saved before dates were
        # bounded) has no local time west of UTC: shown in UTC rather than failing the
        # whole page for everyone who opens it.
        return value.astimezone(UTC)


def format_day(value: date | datetime, *, year: bool = True, tz: tzinfo | None = None) -> str:
    if isinstance(value, datetime):
        value = _local(value, tz)
    long, short = DAYS_BY_LANGUAGE.get(get_language() or "", (DAY, DAY_SHORT))
    return dateformat.format(value, long if year else short)


def format_time(
    value: time | datetime, *, h24: bool | None = None, tz: tzinfo | None = None
) -> str:
    if isinstance(value, datetime):
        value = _local(value, tz)
    h24 = clock_24h.get() if h24 is None else h24
    return dateformat.time_format(value, TIME_24 if h24 else TIME_12)


def format_when(
    value: datetime, *, year: bool = True, h24: bool | None = None, tz: tzinfo | None = None
) -> str:
    local = _local(value, tz)
    zone = local.tzinfo
    return f"{format_day(local, year=year, tz=zone)}, {format_time(local, h24=h24, tz=zone)}"
