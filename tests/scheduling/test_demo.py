"""The demo clinic's schedule: series per track, held weeks with attendance, upcoming
sessions, individual sessions and a cancellation; seeding twice adds nothing."""

import pytest
from django.utils import timezone

from scheduling.models import Attendance, Session, SessionSeries, SessionStatus

pytestmark = pytest.mark.django_db


def _seed(now):
    from core.demo import seed_core
    from patients import demo as patients_demo
    from scheduling import demo

    ctx = seed_core("demo-password-for-tests", now)
    patients_demo.seed_setup(ctx)
    demo.seed_setup(ctx)
    patients_demo.seed(ctx)
    demo.seed(ctx)
    return ctx


def test_demo_builds_a_schedule_with_history_and_is_idempotent():
    now = timezone.now()
    _seed(now)
    day = SessionSeries.objects.filter(track__name="IOP Day", rrule__endswith="BYDAY=MO,WE,FR")
    evening = SessionSeries.objects.filter(
        track__name="IOP Evening", rrule__endswith="BYDAY=MO,TU,TH"
    )
    assert day.count() == 2 and evening.count() == 2  # one per site
    assert Attendance.objects.count() > 300
    assert Attendance.objects.filter(status="unexcused").exists()
    assert Attendance.objects.filter(status="late", minutes_credited__lt=180).exists()
    assert Session.objects.filter(patient__isnull=False).count() >= 2
    assert Session.objects.filter(status=SessionStatus.CANCELLED).exists()
    assert Session.objects.filter(starts_at__gt=now, track__isnull=False).count() > 50
    counts = (SessionSeries.objects.count(), Session.objects.count(), Attendance.objects.count())
    _seed(now)
    assert (
        SessionSeries.objects.count(),
        Session.objects.count(),
        Attendance.objects.count(),
    ) == counts
