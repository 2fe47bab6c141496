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


def test_the_homes_summary_counts_what_the_queue_lists(demo_clinic):
    # owed_summary counts in the database what queue_for reads; every clinician of the
    # demo (drafts, notes overdue, plans due, co-signatures of each kind) must agree.
    from records.selectors.queue import owed_summary
    from records.services._common import CLINICAL_ROLES

    clinicians = User.objects.filter(staff_profile__role__in=CLINICAL_ROLES, is_active=True)
    assert clinicians.count() >= 3
    seen = set()
    for user in clinicians:
        full, summary = queue_for(user, viewer=user), owed_summary(user, viewer=user)
        counts = [
            (q.drafts_count, q.notes_overdue_count, q.plans_due_count, q.cosigns_count)
            for q in (full, summary)
        ]
        assert counts[0] == counts[1], user.username
        seen.add(counts[0])
    # The demo gives the clinicians drafts, overdue notes and co-signatures to count: the
    # comparison is not of zeros.
    assert any(c[0] for c in seen) and any(c[1] for c in seen) and any(c[3] for c in seen)
