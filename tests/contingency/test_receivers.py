"""The path from a result to the ledger: drugtests' signal, the receiver queueing the
task on commit, the task counting the test (in-process, then with a real worker)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import transaction

from contingency.models import LedgerEntry

pytestmark = pytest.mark.django_db


def test_entering_a_cup_result_ends_in_a_ledger_entry_on_commit(
    episode, tester, episode_start, run_tasks_inline, django_capture_on_commit_callbacks
):
    selection = tester.order(episode_start)
    with django_capture_on_commit_callbacks(execute=True):
        tester.collect(selection)
    assert run_tasks_inline == []  # a valid collection changes no outcome yet
    with django_capture_on_commit_callbacks(execute=True):
        tester.result(
            selection,
            {
                "cocaine": "negative",
                "methamphetamine": "negative",
                "amphetamine": "negative",
                "mdma": "negative",
            },
        )
    assert run_tasks_inline == [("cm_selections_evaluate", [selection.pk])]
    entry = LedgerEntry.objects.get(enrollment=episode)
    assert (entry.selection_id, entry.amount) == (selection.pk, Decimal("10.00"))


def test_a_rolled_back_result_queues_nothing(
    episode, tester, episode_start, run_tasks_inline, django_capture_on_commit_callbacks
):
    selection = tester.order(episode_start)
    tester.collect(selection)
    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        tester.result(selection, {"cocaine": "negative"})
        raise RuntimeError("the request failed after the write")
    assert callbacks == []
    assert not LedgerEntry.objects.exists()


def test_a_refusal_and_a_missed_test_are_counted_through_the_signal(
    episode, tester, episode_start, run_tasks_inline, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        refused = tester.refuse(episode_start)
    with django_capture_on_commit_callbacks(execute=True):
        missed = tester.miss(episode_start + timedelta(days=1))
    reasons = dict(
        LedgerEntry.objects.filter(enrollment=episode).values_list("selection_id", "reason")
    )
    assert reasons == {refused.pk: "refused", missed.pk: "missed"}


def test_marking_attendance_ends_in_a_ledger_entry_on_commit(
    attendance_episode,
    attender,
    group_session,
    mark,
    run_tasks_inline,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        row = mark(group_session(), attender, "present")
    assert run_tasks_inline == [("cm_attendances_evaluate", [row.pk])]
    entry = LedgerEntry.objects.get(enrollment=attendance_episode)
    assert (entry.attendance_id, entry.reason) == (row.pk, "attended")


def test_the_tasks_are_acks_late_and_the_catch_up_is_on_the_beat():
    from contingency import tasks

    assert tasks.cm_selections_evaluate.acks_late is True
    assert tasks.cm_attendances_evaluate.acks_late is True
    beat = {e["task"]: e for e in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "options" in beat["contingency.tasks.cm_catch_up"]
    assert beat["contingency.tasks.cm_catch_up"]["options"]["expires"] > 0


def test_the_catch_up_counts_what_the_queue_lost(episode, tester, episode_start, test_now):
    from contingency.services.ledger import catch_up

    # Collected and read two days ago, but its task never ran.
    day = test_now.astimezone(episode.program.site.tz).date() - timedelta(days=2)
    selection = tester.cup(day)
    old = tester.cup(day - timedelta(days=30))  # beyond the catch-up's two weeks
    assert catch_up(now=test_now) == 1
    assert list(LedgerEntry.objects.values_list("selection_id", flat=True)) == [selection.pk]
    assert catch_up(now=test_now) == 0
    assert not LedgerEntry.objects.filter(selection=old).exists()


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_counts_a_cup_result(episode, tester, episode_start, celery_worker):
    from tests.conftest import wait_for

    if not settings.CELERY_BROKER_URL.startswith("redis"):
        pytest.skip("the worker test needs this run's Redis")
    import redis

    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    try:
        selection = tester.cup(episode_start)
        entry = wait_for(lambda: LedgerEntry.objects.filter(selection=selection).first())
        assert (entry.kind, entry.amount) == ("earned", Decimal("10.00"))
    finally:
        redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
