"""A selection's notice and deadline fall inside the site's opening hours, on a clinic day:
a draw run after hours applies to the next clinic day."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.clock import local_datetime, site_today
from drugtests.models import Draw, Selection
from drugtests.selectors import MINIMUM_WINDOW, is_closed, notice_at
from drugtests.services.random_draw import draw_run
from drugtests.tasks import run_due_draws
from scheduling.models import Holiday

from .conftest import MONDAY

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")
FRIDAY = MONDAY - timedelta(days=3)  # 20 November 2026


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=NY)


def test_deadline_is_never_after_closing(patient, always_policy, site):
    site.closes_at = time(16, 0)
    site.save()
    draw_run(site=site, now=at(MONDAY, 9))
    assert Selection.objects.get().deadline == at(MONDAY, 16)


def test_deadline_leaves_the_minimum_window_after_the_notice(patient, always_policy, site):
    always_policy.deadline_time = time(15, 0)
    always_policy.save()
    draw_run(site=site, now=at(MONDAY, 14, 30))
    assert Selection.objects.get().deadline == at(MONDAY, 14, 30) + MINIMUM_WINDOW


def test_draw_before_opening_is_for_today_with_the_policy_deadline(patient, always_policy, site):
    draw_run(site=site, now=at(MONDAY, 6))
    selection = Selection.objects.get()
    assert selection.date == MONDAY and selection.deadline == at(MONDAY, 17)


def test_draw_late_in_the_evening_applies_to_the_next_clinic_day(patient, always_policy, site):
    # Before: a draw at 23:59 told the patient to report by 2:59 AM.
    draw_run(site=site, now=at(MONDAY, 23, 59))
    draw = Draw.objects.get()
    selection = Selection.objects.get()
    tuesday = MONDAY + timedelta(days=1)
    assert draw.date == tuesday and selection.date == tuesday
    assert notice_at(selection) == at(tuesday, 8)
    assert selection.deadline == at(tuesday, 17)


def test_draw_too_late_for_a_fair_window_today_applies_to_the_next_clinic_day(
    patient, always_policy, site
):
    # 16:00 + 3 h would pass the 18:00 closing.
    draw_run(site=site, on=MONDAY, now=at(MONDAY, 16))
    selection = Selection.objects.get()
    assert selection.date == MONDAY + timedelta(days=1)
    assert selection.deadline == at(MONDAY + timedelta(days=1), 17)


def test_draw_after_hours_on_friday_skips_the_weekend_and_a_holiday(patient, always_policy, site):
    Holiday.objects.create(site=site, date=MONDAY, name="Clinic closed")
    draw_run(site=site, now=at(FRIDAY, 19))
    tuesday = MONDAY + timedelta(days=1)
    assert Draw.objects.get().date == tuesday
    assert Selection.objects.get().deadline == at(tuesday, 17)


def test_late_beat_draws_for_the_next_clinic_day_once(patient, always_policy, site):
    late = at(MONDAY, 22)
    assert run_due_draws(late.isoformat()) == 1
    assert run_due_draws((late + timedelta(minutes=30)).isoformat()) == 0
    # Tuesday's own beat finds Tuesday already drawn.
    assert run_due_draws(at(MONDAY + timedelta(days=1), 6, 5).isoformat()) == 0
    assert list(Draw.objects.values_list("date", flat=True)) == [MONDAY + timedelta(days=1)]


def test_a_draw_dated_tomorrow_is_not_on_the_portal_tonight(patient, always_policy, site):
    from drugtests.panels import portal_home

    draw_run(site=site, now=at(MONDAY, 23))
    with _clock(at(MONDAY, 23, 30)):
        assert portal_home(None, patient) is None
    with _clock(at(MONDAY + timedelta(days=1), 7, 0)):
        assert portal_home(None, patient) is None  # before the notice
    with _clock(at(MONDAY + timedelta(days=1), 8, 0)):
        assert portal_home(None, patient) is not None


def _clock(instant):
    import time_machine

    return time_machine.travel(instant, tick=False)


@pytest.mark.date_sensitive
def test_any_draw_window_is_inside_opening_hours_on_a_clinic_day(
    make_patient, always_policy, site, test_now
):
    make_patient()  # admitted well before the frozen day, whatever it is
    # Every day, everyone (p = 7/7), so that every instant of the sweep has a selection.
    always_policy.collection_days, always_policy.frequency = "0123456", 7
    always_policy.save()
    draw = draw_run(site=site, now=test_now).draw
    if is_closed(site, draw.date):  # Thanksgiving, New Year's Day: nobody is drawn
        assert not Selection.objects.exists()
        return
    selection = Selection.objects.get()
    assert selection.date >= site_today(site, test_now)
    opens = local_datetime(selection.date, site.opens_at, site.tz)
    closes = local_datetime(selection.date, site.closes_at, site.tz)
    notice = notice_at(selection)
    assert notice >= test_now
    assert max(notice, opens) + MINIMUM_WINDOW <= selection.deadline <= closes
