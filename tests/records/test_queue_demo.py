"""The demo clinic's co-signature queue (moved from test_queue.py: these tests share one
seeded demo, ``demo_clinic``, and so take no django_db mark)."""

from __future__ import annotations

from core.models import User
from records.selectors.queue import queue_for


def test_the_demo_leaves_one_of_each_kind_waiting_for_the_director(demo_clinic):
    director = User.objects.get(username="director")
    queue = queue_for(director, viewer=director)
    assert queue.note_cosigns and queue.plan_cosigns and queue.group_cosigns


def test_a_second_seed_adds_nothing_to_the_queue(demo_clinic):
    before, after, _ = demo_clinic.reseed()
    for label in ("records.ProgressNote", "records.PlanVersion", "records.GroupNote"):
        assert after[label] == before[label], label
