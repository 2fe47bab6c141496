from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from drugtests.models import TestingPolicy
from drugtests.services.random_draw import draw_run
from notifications import tasks
from notifications.models import Notification
from notifications.sources import draws

NY = ZoneInfo("America/New_York")
MONDAY = datetime(2026, 11, 16, 6, tzinfo=NY)


@pytest.fixture
def daily_policy(site):
    return TestingPolicy.objects.create(
        site=site,
        name="Daily",
        frequency=5,
        period="week",
        collection_days="01234",
        panel=["fentanyl"],
    )


def test_a_draw_queues_one_planning_task_on_commit(
    patient, daily_policy, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr(tasks.plan_draw, "delay", lambda draw_id: queued.append(draw_id))
    with django_capture_on_commit_callbacks(execute=True):
        result = draw_run(site=patient.site, on=MONDAY.date(), now=MONDAY)
    assert queued == [result.draw.pk]


def test_planning_a_draw_plans_the_check_in_notice(patient, daily_policy):
    result = draw_run(site=patient.site, on=MONDAY.date(), now=MONDAY)
    assert draws.plan_draw(result.draw.pk, now=MONDAY) == 1
    assert Notification.objects.filter(patient=patient, kind="drug_test_notice").exists()


def test_a_late_draw_notice_is_due_at_the_next_opening_not_at_night(patient, daily_policy):
    from datetime import time, timedelta

    from notifications import messages
    from notifications.timeutil import in_quiet_hours

    late = MONDAY.replace(hour=23, minute=59)
    result = draw_run(site=patient.site, now=late)
    draws.plan_draw(result.draw.pk, now=late)
    tuesday_8am = datetime.combine(MONDAY.date() + timedelta(days=1), time(8, 0), tzinfo=NY)
    notices = list(Notification.objects.filter(patient=patient, kind="drug_test_notice"))
    assert notices and {n.due_at for n in notices} == {tuesday_8am}
    for n in notices:  # the default quiet hours, 21:00 to 08:00
        assert not in_quiet_hours(n.deliver_after, time(21, 0), time(8, 0), NY)
        _, body = messages.render_checked(n)
        assert "by 5:00 PM" in body and "AM" not in body


def test_the_check_in_notice_shows_the_deadline_on_the_site_clock(
    make_patient, other_site, outside_counselor
):
    from notifications import messages

    west = make_patient(counselor_user=outside_counselor, at_site=other_site, portal=True)
    TestingPolicy.objects.create(
        site=other_site, name="Daily", frequency=5, period="week", panel=["fentanyl"]
    )
    la_morning = datetime(2026, 11, 16, 7, tzinfo=ZoneInfo("America/Los_Angeles"))
    result = draw_run(site=other_site, now=la_morning)
    draws.plan_draw(result.draw.pk, now=la_morning)
    notice = Notification.objects.filter(patient=west, kind="drug_test_notice").first()
    _, body = messages.render_checked(notice)
    assert "by 5:00 PM" in body  # 17:00 in Los Angeles, not 8:00 PM New York
