"""The benchmark seeder's scheduling hook, at a small size (40 patients x 2 weeks)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from patients.models import Track
from scheduling.models import (
    ATTENDED_STATUSES,
    Attendance,
    AttendanceChange,
    Session,
    SessionSeries,
    SessionStatus,
)
from scheduling.selectors.rosters import rosters_for_sessions

pytestmark = pytest.mark.django_db


@pytest.fixture
def scaled():
    from bench.scale import ScaleContext
    from bench.scale.patients import seed_patients
    from bench.scale.scheduling import seed_scale
    from core.demo import seed_core
    from scheduling import demo

    core = seed_core("bench-password-2026", timezone.now())
    demo.seed_setup(core)
    # As at 5,000 patients: more patients per track than the demo's capacity.
    Track.objects.update(capacity=2)
    Session.objects.update(capacity=2)
    ctx = ScaleContext(core, 40, 2, timezone.localdate())
    seed_patients(ctx)
    seed_scale(ctx)
    return ctx


def _held(ctx):
    return list(
        Session.objects.filter(
            track__isnull=False,
            local_date__gte=ctx.start,
            ends_at__lte=ctx.now,
            status=SessionStatus.SCHEDULED,
        )
    )


def test_every_track_has_a_series_reaching_back_to_the_start(scaled):
    for track in Track.objects.filter(is_active=True):
        series = SessionSeries.objects.filter(track=track, is_active=True)
        assert series.exists()
        assert all(s.starts_on <= scaled.start for s in series)


def test_sessions_cover_the_history_and_the_weeks_ahead(scaled):
    days = set(Session.objects.values_list("local_date", flat=True))
    assert min(days) <= scaled.start + timedelta(days=6)
    assert max(days) >= scaled.today + timedelta(weeks=5)


def test_every_rostered_patient_of_every_held_session_has_attendance(scaled):
    held = _held(scaled)
    assert held
    rows = list(Attendance.objects.filter(session__in=held).select_related("patient"))
    rosters = rosters_for_sessions(held, rows)
    marked = {(a.session_id, a.patient_id) for a in rows}
    expected = {(s, p.pk) for s, people in rosters.items() for p in people}
    assert marked == expected and len(marked) > 30
    assert not any(a.is_guest for a in rows)


def test_attendance_is_a_realistic_mix_with_credited_minutes(scaled):
    rows = list(Attendance.objects.select_related("session"))
    statuses = {a.status for a in rows}
    assert "present" in statuses and statuses & {"excused", "unexcused"}
    present = [a for a in rows if a.status == "present"]
    assert len(present) > len(rows) / 2
    for a in rows:
        if a.status in ATTENDED_STATUSES:
            assert 0 < a.minutes_credited <= a.session.duration_minutes
        else:
            assert a.minutes_credited == 0


def test_each_attendance_row_has_its_history_row(scaled):
    assert AttendanceChange.objects.count() == Attendance.objects.count()
    assert not Attendance.objects.filter(changes__isnull=True).exists()


def test_track_and_session_capacities_hold_the_whole_roster(scaled):
    held = _held(scaled)
    rosters = rosters_for_sessions(held)
    by_pk = {s.pk: s for s in held}
    assert all(len(people) <= by_pk[pk].capacity for pk, people in rosters.items())


def test_running_the_hook_again_adds_no_attendance(scaled):
    from bench.scale.scheduling import seed_scale

    before = Attendance.objects.count()
    seed_scale(scaled)
    assert Attendance.objects.count() == before
