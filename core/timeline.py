"""The patient's timeline: what happened in their care, newest first, from every app.

An app contributes in its ``timeline`` module: functions registered with
``@source(kind, order=...)`` that take a ``TimelineQuery`` and return that patient's
``TimelineEntry`` rows inside the query's window (newest first, at most ``limit``).
``CoreConfig.ready()`` finds those modules with ``autodiscover_modules``, so core names
no app above it. Each source runs a fixed number of queries whatever the data size, so
the chart and the timeline page keep a pinned count as a patient's record grows.

What a viewer may read is each source's decision (it gets the viewer): the clinical
sources show front desk and collectors that a record exists, never what it says.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from .clock import local_datetime
from .registry import Registry

if TYPE_CHECKING:
    from patients.models import Patient

    from .models import Site, User

# The filter of the timeline page: kind -> label. Every source registers under one.
KINDS: dict[str, str] = {
    "attendance": "Attendance",
    "tests": "Drug tests",
    "meetings": "Meetings",
    "notes": "Notes and plans",
}


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime  # aware; the order of the timeline
    day: date  # the site-local day the entry belongs to
    kind: str  # a key of KINDS
    title: str
    detail: str = ""
    status: str = ""  # a short label shown as a badge
    url: str | None = None
    badge: str = "text-bg-secondary"  # the status badge's Bootstrap class
    labels: tuple[str, ...] = ()  # further badges, e.g. "Late entry"


@dataclass(frozen=True)
class TimelineQuery:
    """One patient's entries with ``start <= at < end`` (either bound optional), newest
    first, at most ``limit`` of them (None: all in the window)."""

    viewer: User
    patient: Patient
    start: datetime | None = None
    end: datetime | None = None
    limit: int | None = None


TimelineSource = Callable[[TimelineQuery], list[TimelineEntry]]

# Keyed by kind (KINDS); lower orders first, which breaks ties between equal instants.
SOURCES: Registry[TimelineSource] = Registry(unique=False)


def source(kind: str, *, order: int) -> Callable[[TimelineSource], TimelineSource]:
    if kind not in KINDS:
        raise ValueError(f"Unknown timeline kind {kind!r}.")
    return SOURCES.register(kind, order=order)


def collect(
    viewer: User,
    patient: Patient,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int | None = None,
    kinds: Iterable[str] | None = None,
) -> list[TimelineEntry]:
    """Every source's entries merged newest first (``limit``: the newest that many)."""
    wanted = set(kinds) if kinds is not None else None
    query = TimelineQuery(viewer=viewer, patient=patient, start=start, end=end, limit=limit)
    entries: list[TimelineEntry] = []
    for entry in SOURCES.entries():
        if wanted is None or entry.key in wanted:
            entries.extend(entry.value(query))
    # A stable sort: entries at the same instant keep the sources' registration order.
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit] if limit is not None else entries


def month_window(site: Site, month: date) -> tuple[datetime, datetime]:
    """The instants where ``month`` (any day of it) starts and the next one starts, on
    the site's clock."""
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return local_datetime(first, time(0), site.tz), local_datetime(following, time(0), site.tz)


def month_of(value: str, default: date) -> date:
    """The first of the month ``YYYY-MM`` names, or of ``default``'s month when the value
    is missing or not a month inside the supported years."""
    year, _, month = value.partition("-")
    if year.isdigit() and month.isdigit() and 1900 <= int(year) <= 2199 and 1 <= int(month) <= 12:
        return date(int(year), int(month), 1)
    return default.replace(day=1)


def previous_month(month: date) -> date:
    return (month.replace(day=1) - timedelta(days=1)).replace(day=1)


def next_month(month: date) -> date:
    return (month.replace(day=1) + timedelta(days=32)).replace(day=1)
