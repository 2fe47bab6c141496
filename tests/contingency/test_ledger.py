"""The ledger service: how one test, refusal, missed test or lab result counts."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from contingency.models import LedgerEntry
from contingency.services.ledger import selections_evaluate

from .conftest import POS

pytestmark = pytest.mark.django_db

Kind = LedgerEntry.Kind
Reason = LedgerEntry.Reason


def count(*selections) -> int:
    return selections_evaluate(selection_ids=[s.pk for s in selections])


def test_a_negative_cup_earns_the_start_amount_at_step_one(episode, tester, episode_start):
    selection = tester.cup(episode_start)
    assert count(selection) == 1
    entry = LedgerEntry.objects.get(enrollment=episode)
    assert (entry.kind, entry.reason, entry.step, entry.amount) == (
        Kind.EARNED,
        Reason.NEGATIVE,
        1,
        Decimal("10.00"),
    )
    assert (entry.episode_total, entry.year_total, entry.balance) == (
        Decimal("10.00"),
        Decimal("10.00"),
        Decimal("10.00"),
    )
    assert (entry.seq, entry.next_step, entry.selection_id) == (1, 2, selection.pk)
    assert (entry.episode_cap, entry.year_cap) == (Decimal("599.00"), Decimal("750.00"))


def test_counting_a_test_twice_appends_nothing(episode, tester, episode_start):
    selection = tester.cup(episode_start)
    count(selection)
    assert count(selection) == 0
    assert LedgerEntry.objects.filter(enrollment=episode).count() == 1


def test_a_positive_on_a_target_analyte_earns_nothing_and_resets(episode, tester, episode_start):
    first = tester.cup(episode_start)
    second = tester.cup(episode_start + timedelta(days=3), cocaine=POS)
    count(first, second)
    entry = LedgerEntry.objects.get(enrollment=episode, seq=2)
    assert (entry.kind, entry.reason, entry.amount, entry.step) == (
        Kind.NOT_EARNED,
        Reason.POSITIVE,
        Decimal("0.00"),
        2,
    )
    assert (entry.next_step, entry.restore_step, entry.since_reset) == (1, 2, 0)
