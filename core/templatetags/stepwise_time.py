"""Template filters for the one date and time format (``core.formats``).

``{{ d|day }}`` Wed Nov 25, 2026 · ``{{ d|day_short }}`` Wed Nov 25 · ``{{ t|clock }}``
6:00 PM (18:00 on a 24-hour site) · ``{{ dt|when }}`` Wed Nov 25, 2026, 6:00 PM.
Datetimes are shown in the active zone (the viewer's site) unless converted first with
``|timezone:site.time_zone`` for something that happens at a given site.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from django import template

from core import formats

register = template.Library()


def _keep_zone(value: object) -> tzinfo | None:
    # The template engine has already moved the value into the active zone (or the
    # |timezone filter into a site's): format it where it stands.
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.tzinfo
    return None


@register.filter(expects_localtime=True)
def day(value: Any) -> str:
    return formats.format_day(value, tz=_keep_zone(value)) if value not in (None, "") else ""


@register.filter(expects_localtime=True)
def day_short(value: Any) -> str:
    if value in (None, ""):
        return ""
    return formats.format_day(value, year=False, tz=_keep_zone(value))


@register.filter(expects_localtime=True)
def clock(value: Any) -> str:
    return formats.format_time(value, tz=_keep_zone(value)) if value not in (None, "") else ""


@register.filter(expects_localtime=True)
def when(value: Any) -> str:
    return formats.format_when(value, tz=_keep_zone(value)) if value not in (None, "") else ""


@register.filter
def when_at(value: Any, zone: str) -> str:
    """``when`` on a named zone's clock (the site where it happened): ``{{ dt|when_at:
    site.time_zone }}``. It converts the value itself, so an instant too close to year 1
    to convert (stored before dates were bounded) is shown in UTC, not a server error,
    as ``|timezone:...|when`` would give."""
    if value in (None, ""):
        return ""
    return formats.format_when(value, tz=ZoneInfo(zone))
