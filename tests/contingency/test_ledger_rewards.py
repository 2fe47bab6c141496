"""Rewards handed out against the balance, and their reconciliation."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from contingency.models import LedgerEntry
from contingency.services.ledger import reward_issue, reward_reconcile, selections_evaluate
from core.models import AuditEvent

from .conftest import POS

pytestmark = pytest.mark.django_db

Kind = LedgerEntry.Kind


@pytest.fixture
def earned(episode, tester, episode_start):
    """21.50 earned (10.00 + 11.50)."""
    tests = [tester.cup(episode_start), tester.cup(episode_start + timedelta(days=3))]
    selections_evaluate(selection_ids=[t.pk for t in tests])
    return tests


def issue(episode, counselor, amount="20.00", ref="GC-0001", **kw):
    return reward_issue(
        actor=counselor, cm_enrollment=episode, amount=Decimal(amount), reward_ref=ref, **kw
    )


def test_a_reward_handed_out_leaves_the_balance_and_keeps_the_totals(episode, earned, counselor):
    entry = issue(episode, counselor, note="Grocery card")
    assert (entry.kind, entry.reason, entry.amount, entry.reward_ref) == (
        Kind.ISSUED,
        "handed_out",
        Decimal("-20.00"),
        "GC-0001",
    )
    assert (entry.balance, entry.episode_total) == (Decimal("1.50"), Decimal("21.50"))
    # The year's total is that of the hand-out's year (the tests may be in the one before).
    earned_that_year = sum(
        e.amount for e in LedgerEntry.objects.filter(kind=Kind.EARNED, year=entry.year)
    )
    assert entry.year_total == earned_that_year
    assert (entry.created_by, entry.reward_kind, entry.seq) == (counselor, "gift_card", 3)
    assert AuditEvent.objects.filter(
        action="contingency.issued", actor=counselor, object_id=str(entry.pk)
    ).exists()


def test_a_reward_keeps_the_schedule_where_it_was(episode, earned, counselor, tester):
    entry = issue(episode, counselor)
    assert (entry.next_step, entry.step) == (3, None)


@pytest.mark.parametrize("amount", ["0", "-5.00", "0.001", "21.51"])
def test_a_reward_of_nothing_or_above_the_balance_is_refused(episode, earned, counselor, amount):
    with pytest.raises(ValidationError) as error:
        issue(episode, counselor, amount=amount)
    assert "amount" in error.value.message_dict
    assert not LedgerEntry.objects.filter(kind=Kind.ISSUED).exists()


def test_a_reward_without_a_voucher_or_card_id_is_refused(episode, earned, counselor):
    with pytest.raises(ValidationError) as error:
        issue(episode, counselor, ref="  ")
    assert "reward_ref" in error.value.message_dict


def test_a_card_id_handed_out_twice_is_refused(episode, earned, counselor):
    issue(episode, counselor, amount="5.00")
    with pytest.raises(ValidationError) as error:
        issue(episode, counselor, amount="5.00")
    assert "already handed out" in error.value.message_dict["reward_ref"][0]


def test_a_reversal_after_a_hand_out_leaves_a_negative_balance_and_blocks_the_next(
    episode, earned, counselor, tester, episode_start
):
    issue(episode, counselor, amount="21.50")
    tester.result(earned[1], {"cocaine": POS}, source="lab", on=episode_start + timedelta(days=4))
    selections_evaluate(selection_ids=[earned[1].pk])
    reversal = LedgerEntry.objects.get(enrollment=episode, kind=Kind.REVERSAL)
    assert (reversal.amount, reversal.balance, reversal.episode_total) == (
        Decimal("-11.50"),
        Decimal("-11.50"),
        Decimal("10.00"),
    )
    # Not taken back; the next earnings pay the difference first.
    selections_evaluate(selection_ids=[tester.cup(episode_start + timedelta(days=7)).pk])
    with pytest.raises(ValidationError):
        issue(episode, counselor, amount="0.01", ref="GC-0002")


def test_reconciling_a_reward_appends_a_line_naming_it(episode, earned, counselor):
    issued = issue(episode, counselor)
    line = reward_reconcile(actor=counselor, entry=issued, note="Card activated")
    assert (line.kind, line.related, line.amount, line.balance, line.reward_ref) == (
        Kind.RECONCILED,
        issued,
        Decimal("0.00"),
        Decimal("1.50"),
        "GC-0001",
    )
    assert AuditEvent.objects.filter(action="contingency.reconciled", actor=counselor).exists()


def test_a_reward_is_reconciled_once(episode, earned, counselor):
    issued = issue(episode, counselor)
    reward_reconcile(actor=counselor, entry=issued)
    with pytest.raises(ValidationError, match="already reconciled"):
        reward_reconcile(actor=counselor, entry=issued)
    assert LedgerEntry.objects.filter(kind=Kind.RECONCILED).count() == 1


def test_only_a_reward_handed_out_is_reconciled(episode, earned, counselor):
    earned_entry = LedgerEntry.objects.get(enrollment=episode, seq=1)
    with pytest.raises(ValidationError, match="Only a reward"):
        reward_reconcile(actor=counselor, entry=earned_entry)
