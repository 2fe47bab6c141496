"""Wall-clock times in a site's time zone, DST-correct.

A local time that does not exist (spring forward) is moved forward by the gap; an
ambiguous one (fall back) takes its first occurrence. Both go through UTC so the
result is a real instant.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def local_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of wall-clock ``at`` on ``day`` in ``tz``."""
    naive = datetime.combine(day, at)
    aware = naive.replace(tzinfo=tz, fold=0)
    instant = aware.astimezone(UTC)
    # A non-existent wall time (inside the spring-forward gap) round-trips to a
    # different wall time; zoneinfo with fold=0 maps it to the pre-gap offset, which
    # lands after the gap, i.e. "moved forward by the gap".
    return instant


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
        candidate = local_instant(local_day + timedelta(days=offset), end, tz)
        if candidate >= instant and not in_quiet_hours(candidate, start, end, tz):
            return candidate
    return instant  # pragma: no cover - an end time always comes within two days
