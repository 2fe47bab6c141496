from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from drugtests import services as drug_services
from drugtests.models import TestingPolicy
from notifications import planning_ext, tasks
from notifications.models import Notification

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
        result = drug_services.draw_run(site=patient.site, on=MONDAY.date(), now=MONDAY)
    assert queued == [result.draw.pk]


def test_planning_a_draw_plans_the_check_in_notice(patient, daily_policy):
    result = drug_services.draw_run(site=patient.site, on=MONDAY.date(), now=MONDAY)
    assert planning_ext.plan_draw(result.draw.pk, now=MONDAY) == 1
    assert Notification.objects.filter(patient=patient, kind="drug_test_notice").exists()
