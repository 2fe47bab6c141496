"""Scheduling fixtures: a fixed clock, series on the shared tracks, and a session factory."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

NY = ZoneInfo("America/New_York")
# Wednesday, November 18 2026, 22:00 in New York (after the evening group).
NOW = datetime(2026, 11, 18, 22, 0, tzinfo=NY)
MONDAY = date(2026, 11, 16)


@pytest.fixture
def now():
    return NOW


@pytest.fixture
def evening_series(track, counselor):
    from scheduling.services.materialization import sessions_materialize
    from scheduling.services.series import series_create

    series = series_create(
        actor=counselor,
        track=track,
        weekdays=["MO", "TU", "TH"],
        start_time=time(18),
        end_time=time(21),
        starts_on=date(2026, 9, 1),
        topic="Relapse prevention",
        kind="relapse_prevention",
        now=datetime(2026, 9, 1, 8, tzinfo=NY),
    )
    # As if the hourly job had run all along: every session from Sep 1 to 6 weeks ahead.
    sessions_materialize(site=track.site, now=NOW, first=date(2026, 9, 1))
    return series


@pytest.fixture
def make_session(site):
    """A one-off group session of a track at local ``day`` ``start``-``end`` (no series)."""
    from core.clock import local_datetime
    from scheduling.models import Session

    def make(track, day: date, start: time = time(18), end: time = time(21), **extra):
        at = track.site if track is not None else site
        return Session.objects.create(
            site=at,
            track=track,
            local_date=day,
            starts_at=local_datetime(day, start, at.tz),
            ends_at=local_datetime(day, end, at.tz),
            kind=extra.pop("kind", "group"),
            facilitator=extra.pop("facilitator", track.default_facilitator if track else None),
            room=extra.pop("room", track.room if track else ""),
            capacity=extra.pop("capacity", track.capacity if track else 1),
            created_at=NOW - timedelta(days=60),
            **extra,
        )

    return make


@pytest.fixture
def week_sessions(track, make_session):
    """The evening track's Mon/Tue/Thu sessions in the week of MONDAY (3 x 3 h)."""
    return [make_session(track, MONDAY + timedelta(days=d)) for d in (0, 1, 3)]
