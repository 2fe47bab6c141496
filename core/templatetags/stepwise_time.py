"""Template filters for the one date and time format (``core.formats``).

``{{ d|day }}`` Wed Nov 25, 2026 · ``{{ d|day_short }}`` Wed Nov 25 · ``{{ t|clock }}``
6:00 PM (18:00 on a 24-hour site) · ``{{ dt|when }}`` Wed Nov 25, 2026, 6:00 PM.
Datetimes are shown in the active zone (the viewer's site) unless converted first with
``|timezone:site.time_zone`` for something that happens at a given site.
"""

from __future__ import annotations

from datetime import datetime

from django import template

from core import formats

register = template.Library()


def _keep_zone(value) -> dict:
    # The template engine has already moved the value into the active zone (or the
    # |timezone filter into a site's): format it where it stands.
    if isinstance(value, datetime) and value.tzinfo is not None:
        return {"tz": value.tzinfo}
    return {}


@register.filter(expects_localtime=True)
def day(value):
    return formats.format_day(value, **_keep_zone(value)) if value not in (None, "") else ""


@register.filter(expects_localtime=True)
def day_short(value):
    if value in (None, ""):
        return ""
    return formats.format_day(value, year=False, **_keep_zone(value))


@register.filter(expects_localtime=True)
def clock(value):
    return formats.format_time(value, **_keep_zone(value)) if value not in (None, "") else ""


@register.filter(expects_localtime=True)
def when(value):
    return formats.format_when(value, **_keep_zone(value)) if value not in (None, "") else ""
