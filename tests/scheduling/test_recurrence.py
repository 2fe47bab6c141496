"""Series in the site's time zone: right local time across DST, idempotent materialization,
holidays, edits that change future occurrences only, and bad series input."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from scheduling.models import Holiday, Session, SessionStatus, SiteSchedule
from scheduling.services.materialization import sessions_materialize
from scheduling.services.series import series_create, series_update
from scheduling.services.site_holidays import holiday_add
from tests.conftest import SCENARIO_NOW

pytestmark = [pytest.mark.frozen(SCENARIO_NOW), pytest.mark.django_db]

NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")


def _local_times(sessions, tz):
    return {s.local_date: s.starts_at.astimezone(tz).time() for s in sessions}


def test_new_york_fall_back_week_keeps_local_start_and_changes_utc(track):
    # US clocks go back on Sunday Nov 1 2026: 18:00 local is 22:00 UTC before, 23:00 after.
    series = series_create(
        actor=None,
        track=track,
        weekdays=["MO", "TU", "TH"],
        start_time=time(18),
        end_time=time(21),
        starts_on=date(2026, 10, 26),
        now=datetime(2026, 10, 25, 12, tzinfo=NY),
    )
    sessions = list(Session.objects.filter(series=series, local_date__lte=date(2026, 11, 5)))
    assert set(_local_times(sessions, NY).values()) == {time(18)}
    by_day = {s.local_date: s for s in sessions}
    assert by_day[date(2026, 10, 29)].starts_at.astimezone(UTC).hour == 22
    assert by_day[date(2026, 11, 2)].starts_at.astimezone(UTC).hour == 23
    assert by_day[date(2026, 11, 2)].duration_minutes == 180


def test_new_york_spring_forward_week_keeps_local_start(day_track):
    # US clocks go forward on Sunday Mar 8 2026.
    series = series_create(
        actor=None,
        track=day_track,
        weekdays=["MO", "WE", "FR"],
        start_time=time(9),
        end_time=time(12),
        starts_on=date(2026, 3, 2),
        now=datetime(2026, 3, 1, 12, tzinfo=NY),
    )
    sessions = list(Session.objects.filter(series=series, local_date__lte=date(2026, 3, 13)))
    assert len(sessions) == 6
    assert set(_local_times(sessions, NY).values()) == {time(9)}
    utc_hours = {s.local_date: s.starts_at.astimezone(UTC).hour for s in sessions}
    assert utc_hours[date(2026, 3, 6)] == 14
    assert utc_hours[date(2026, 3, 9)] == 13


def test_london_dst_week_lands_at_local_time(org, counselor):
    from core.models import Site
    from patients.models import Track

    london = Site.objects.create(
        organization=org, name="Camden", code="camden", time_zone="Europe/London"
    )
    track = Track.objects.create(site=london, name="IOP Evening", kind="evening", level="2.1")
    # UK clocks go back on Sunday Oct 25 2026 (a week before the US).
    series = series_create(
        actor=None,
        track=track,
        weekdays=["MO", "TU", "TH"],
        start_time=time(18),
        end_time=time(21),
        starts_on=date(2026, 10, 19),
        now=datetime(2026, 10, 18, 12, tzinfo=LONDON),
    )
    sessions = {
        s.local_date: s
        for s in Session.objects.filter(series=series, local_date__lte=date(2026, 10, 29))
    }
    assert {s.starts_at.astimezone(LONDON).time() for s in sessions.values()} == {time(18)}
    assert sessions[date(2026, 10, 22)].starts_at.astimezone(UTC).time() == time(17)
    assert sessions[date(2026, 10, 26)].starts_at.astimezone(UTC).time() == time(18)


def test_materialization_twice_creates_the_same_rows(evening_series, track):
    now = datetime(2026, 11, 18, 8, tzinfo=NY)
    sessions_materialize(site=track.site, now=now)
    first = list(Session.objects.order_by("pk").values_list("pk", "local_date", "starts_at"))
    created = sessions_materialize(site=track.site, now=now)
    assert created == 0
    assert list(Session.objects.order_by("pk").values_list("pk", "local_date", "starts_at")) == (
        first
    )
    # 6 weeks ahead by default, 3 sessions a week, from Nov 18 to Dec 30 inclusive.
    assert Session.objects.filter(local_date__gte=date(2026, 11, 18)).count() == 18


def test_materialize_all_sites_task_is_idempotent(evening_series, track):
    from scheduling.tasks import materialize_all_sites

    materialize_all_sites()
    count = Session.objects.count()
    materialize_all_sites()
    assert Session.objects.count() == count
    assert count > 0


def test_holiday_sessions_are_cancelled_not_absent(evening_series, track):
    now = datetime(2026, 11, 18, 8, tzinfo=NY)
    sessions_materialize(site=track.site, now=now)
    # Thanksgiving is seeded with the site; a closure the director adds later is not.
    holiday_add(actor=None, site=track.site, day=date(2026, 12, 3), name="Staff training")
    session = Session.objects.get(series=evening_series, local_date=date(2026, 12, 3))
    assert session.status == SessionStatus.CANCELLED
    assert session.status_reason == "Holiday: Staff training"


def test_holiday_known_before_materializing_creates_cancelled_session(evening_series, track):
    Holiday.objects.create(site=track.site, date=date(2027, 1, 12), name="Staff training")
    sessions_materialize(site=track.site, now=datetime(2026, 11, 18, 8, tzinfo=NY), weeks=8)
    session = Session.objects.get(series=evening_series, local_date=date(2027, 1, 12))
    assert session.status == SessionStatus.CANCELLED


def test_series_edit_changes_future_occurrences_only(evening_series, track):
    now = datetime(2026, 11, 18, 8, tzinfo=NY)
    sessions_materialize(site=track.site, now=now)
    past = Session.objects.get(series=evening_series, local_date=date(2026, 11, 17))
    new = series_update(
        actor=None,
        series=evening_series,
        effective_date=date(2026, 11, 23),
        weekdays=["MO", "WE"],
        start_time=time(17, 30),
        end_time=time(20, 30),
        kind="group",
        now=now,
    )
    past.refresh_from_db()
    assert past.status == SessionStatus.SCHEDULED
    assert past.starts_at.astimezone(NY).time() == time(18)
    # Nov 19 (before the effective date) keeps the old rule and time.
    kept = Session.objects.get(series=evening_series, local_date=date(2026, 11, 19))
    assert kept.status == SessionStatus.SCHEDULED
    visible = Session.objects.filter(
        track=track, local_date__gte=date(2026, 11, 23), local_date__lte=date(2026, 11, 29)
    ).exclude(status=SessionStatus.REMOVED)
    assert {(s.local_date, s.starts_at.astimezone(NY).time()) for s in visible} == {
        (date(2026, 11, 23), time(17, 30)),
        (date(2026, 11, 25), time(17, 30)),
    }
    assert all(s.series_id == new.pk for s in visible)


def test_series_edit_in_the_past_is_refused(evening_series):
    with pytest.raises(ValidationError) as err:
        series_update(
            actor=None,
            series=evening_series,
            effective_date=date(2026, 11, 1),
            weekdays=["MO"],
            start_time=time(18),
            end_time=time(21),
            kind="group",
            now=datetime(2026, 11, 18, 8, tzinfo=NY),
        )
    assert "effective_date" in err.value.message_dict


def test_series_ending_before_it_starts_is_refused(track):
    with pytest.raises(ValidationError) as err:
        series_create(
            actor=None,
            track=track,
            weekdays=["MO"],
            start_time=time(21),
            end_time=time(18),
            starts_on=date(2026, 11, 23),
        )
    assert "end_time" in err.value.message_dict
    assert not Session.objects.exists()


def test_series_on_a_closed_day_is_refused(track):
    SiteSchedule.objects.create(site=track.site, open_days="MO,TU,WE,TH,FR")
    with pytest.raises(ValidationError) as err:
        series_create(
            actor=None,
            track=track,
            weekdays=["SA", "MO"],
            start_time=time(9),
            end_time=time(12),
            starts_on=date(2026, 11, 23),
        )
    assert "closed on Sat" in err.value.message_dict["weekdays"][0]


def test_series_with_no_day_is_refused(track):
    with pytest.raises(ValidationError) as err:
        series_create(
            actor=None,
            track=track,
            weekdays=[],
            start_time=time(9),
            end_time=time(12),
            starts_on=date(2026, 11, 23),
        )
    assert "weekdays" in err.value.message_dict


def test_stored_rule_is_rfc5545(evening_series):
    from dateutil.rrule import rrulestr

    assert evening_series.rrule == "FREQ=WEEKLY;BYDAY=MO,TU,TH"
    rule = rrulestr(evening_series.rrule, dtstart=datetime(2026, 11, 16))
    assert rule[0] == datetime(2026, 11, 16)
    assert rule[1] == datetime(2026, 11, 17)
    assert rule[2] == datetime(2026, 11, 19)


def test_materialization_does_not_create_past_sessions(track):
    series_create(
        actor=None,
        track=track,
        weekdays=["MO", "TU", "TH"],
        start_time=time(18),
        end_time=time(21),
        starts_on=date(2026, 9, 1),
        now=datetime(2026, 11, 18, 8, tzinfo=NY),
    )
    dates = sorted(Session.objects.values_list("local_date", flat=True))
    assert dates[0] == date(2026, 11, 19)
    assert dates[-1] == date(2026, 12, 29)
