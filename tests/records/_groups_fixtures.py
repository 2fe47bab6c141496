"""Group-note fixtures: a group session of the ``track`` that started two hours before
the frozen instant (so it is held and its note may be written), its attendees with
attendance, and a helper to mark them. Imported by the group-note test modules."""

from __future__ import annotations

from datetime import timedelta

import pytest

from scheduling.models import Attendance, AttendanceStatus, Session
from scheduling.services.attendance import credited_minutes

# What ``from ._groups_fixtures import *`` brings into a test module: the fixtures.
__all__ = ["group_session", "make_attendees", "six_attendees"]


def make_group_session(track, start, *, hours: int = 3, **extra) -> Session:
    site = track.site
    return Session.objects.create(
        site=site,
        track=track,
        local_date=start.astimezone(site.tz).date(),
        starts_at=start,
        ends_at=start + timedelta(hours=hours),
        kind=extra.pop("kind", "relapse_prevention"),
        topic=extra.pop("topic", "Triggers and coping plans"),
        facilitator=extra.pop("facilitator", track.default_facilitator),
        room=track.room,
        capacity=track.capacity,
        created_at=start - timedelta(days=30),
        **extra,
    )


def mark(session: Session, patient, status: str, *, late_by: int = 0, early_by: int = 0):
    arrived = session.starts_at + timedelta(minutes=late_by) if late_by else None
    left = session.ends_at - timedelta(minutes=early_by) if early_by else None
    return Attendance.objects.create(
        session=session,
        patient=patient,
        status=status,
        arrived_at=arrived,
        left_at=left,
        minutes_credited=credited_minutes(session, status, arrived, left),
        recorded_by=session.facilitator,
        recorded_at=session.ends_at,
        updated_at=session.ends_at,
    )


@pytest.fixture
def group_session(track, test_now):
    """Started two hours ago (one hour left): held, so its note may be written."""
    return make_group_session(track, test_now - timedelta(hours=2))


@pytest.fixture
def make_attendees(make_patient, track):
    def make(n: int):
        return [make_patient(first=f"Att{i:02d}", last="Group", track=track) for i in range(n)]

    return make


@pytest.fixture
def six_attendees(group_session, make_attendees):
    """Six on the roster: three present, one late, one left early, one absent."""
    people = make_attendees(6)
    statuses = [
        (AttendanceStatus.PRESENT, {}),
        (AttendanceStatus.PRESENT, {}),
        (AttendanceStatus.PRESENT, {}),
        (AttendanceStatus.LATE, {"late_by": 20}),
        (AttendanceStatus.LEFT_EARLY, {"early_by": 45}),
        (AttendanceStatus.UNEXCUSED, {}),
    ]
    for p, (status, extra) in zip(people, statuses, strict=True):
        mark(group_session, p, status, **extra)
    return people
