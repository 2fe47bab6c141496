"""Quiet hours: a recipient's window, in the site's wall-clock time, with no messages."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.clock import local_datetime


def in_quiet_hours(instant: datetime, start: time | None, end: time | None, tz: ZoneInfo) -> bool:
    if start is None or end is None or start == end:
        return False
    local = instant.astimezone(tz).time()
    if start < end:
        return start <= local < end
    return local >= start or local < end  # wraps midnight, e.g. 21:00-08:00


def quiet_hours_end(instant: datetime, start: time, end: time, tz: ZoneInfo) -> datetime:
    """The first instant at or after ``instant`` that is outside quiet hours."""
    local_day = instant.astimezone(tz).date()
    for offset in range(3):
        candidate = local_datetime(local_day + timedelta(days=offset), end, tz)
        if candidate >= instant and not in_quiet_hours(candidate, start, end, tz):
            return candidate
    return instant  # pragma: no cover - an end time always comes within two days
