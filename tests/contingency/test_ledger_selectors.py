"""Where an episode stands (what the next negative earns), its ledger, and rewards
not yet reconciled."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from contingency.selectors.ledger import episode_state, ledger_for, unreconciled_issues
from contingency.services.ledger import reward_issue, reward_reconcile, selections_evaluate

from .conftest import POS

pytestmark = pytest.mark.django_db


def count(*selections) -> None:
    selections_evaluate(selection_ids=[s.pk for s in selections])


def test_a_fresh_episode_earns_the_start_amount_next(episode):
    state = episode_state(episode)
    assert (state.next_step, state.next_amount, state.balance, state.last_entry) == (
        1,
        Decimal("10.00"),
        Decimal("0.00"),
        None,
    )
    assert (state.episode_cap, state.year_cap) == (Decimal("599.00"), Decimal("750.00"))


def test_the_next_amount_includes_a_restore_that_is_due(episode, tester, episode_start):
    days = iter(range(100))
    tests = [tester.cup(episode_start + timedelta(days=next(days))) for _ in range(8)]
    tests.append(tester.cup(episode_start + timedelta(days=next(days)), cocaine=POS))
    tests += [tester.cup(episode_start + timedelta(days=next(days))) for _ in range(5)]
    count(*tests)
    state = episode_state(episode)
    # Steps 1-8, a reset keeping step 9, steps 1-5: the next negative is back at step 9
    # (10.00 + 8 x 1.50), not at step 6.
    assert (state.next_step, state.next_amount) == (9, Decimal("22.00"))


def test_the_next_amount_is_cut_to_what_the_cap_leaves(program, episode, tester, episode_start):
    program.episode_cap = Decimal("15.00")
    program.save()
    count(tester.cup(episode_start))
    state = episode_state(episode)
    assert (state.next_step, state.next_amount, state.episode_total) == (
        2,
        Decimal("5.00"),
        Decimal("10.00"),
    )


def test_the_ledger_reads_in_one_query(episode, tester, episode_start, django_assert_num_queries):
    count(tester.cup(episode_start), tester.cup(episode_start + timedelta(days=1)))
    with django_assert_num_queries(1):
        rows = [(e.seq, e.selection.date, e.created_by) for e in ledger_for(episode)]
    assert [r[0] for r in rows] == [1, 2]


def test_unreconciled_rewards_are_those_without_a_reconciliation(
    site, episode, tester, episode_start, counselor
):
    count(tester.cup(episode_start), tester.cup(episode_start + timedelta(days=1)))
    first = reward_issue(
        actor=counselor, cm_enrollment=episode, amount=Decimal("10.00"), reward_ref="A-1"
    )
    second = reward_issue(
        actor=counselor, cm_enrollment=episode, amount=Decimal("5.00"), reward_ref="A-2"
    )
    reward_reconcile(actor=counselor, entry=first)
    assert list(unreconciled_issues(site)) == [second]


def test_unreconciled_rewards_are_per_site(other_site, episode, tester, episode_start, counselor):
    count(tester.cup(episode_start))
    reward_issue(actor=counselor, cm_enrollment=episode, amount=Decimal("5.00"), reward_ref="B-1")
    assert list(unreconciled_issues(other_site)) == []


def test_where_an_episode_stands_reads_in_two_queries(
    episode, tester, episode_start, today, django_assert_num_queries
):
    count(tester.cup(episode_start))
    with django_assert_num_queries(2):  # the last entry, the year's total
        state = episode_state(episode, today=today)
    assert state.last_entry.seq == 1
