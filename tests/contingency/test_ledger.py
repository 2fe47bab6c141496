"""The ledger service: how one test, refusal, missed test or lab result counts."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from contingency.models import LedgerEntry
from contingency.services.ledger import selections_evaluate

from .conftest import NEG, NT, POS

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


def test_a_target_analyte_off_the_panel_is_not_required(episode, tester, episode_start):
    # The default panel has no MDMA; the program's targets include it.
    selection = tester.order(episode_start)
    tester.collect(selection)
    tester.result(selection, {"cocaine": NEG, "amphetamine": NEG, "methamphetamine": NEG})
    count(selection)
    assert LedgerEntry.objects.get(enrollment=episode).reason == Reason.NEGATIVE


def test_a_target_analyte_off_the_panel_found_positive_counts_as_positive(
    episode, tester, episode_start
):
    count(tester.cup(episode_start, mdma=POS))
    assert LedgerEntry.objects.get(enrollment=episode).reason == Reason.POSITIVE


def test_a_panel_without_any_target_analyte_cannot_earn(episode, tester, episode_start, cm_policy):
    cm_policy.panel = ["fentanyl", "thc"]
    cm_policy.save()
    selection = tester.order(episode_start)
    tester.collect(selection)
    tester.result(selection, {"fentanyl": NEG, "thc": NEG})
    count(selection)
    assert LedgerEntry.objects.get(enrollment=episode).reason == Reason.NOT_TESTED


def test_a_positive_on_another_analyte_still_earns(episode, tester, episode_start):
    count(tester.cup(episode_start, thc=POS, fentanyl=POS))
    entry = LedgerEntry.objects.get(enrollment=episode)
    assert (entry.kind, entry.amount) == (Kind.EARNED, Decimal("10.00"))


def test_a_target_analyte_not_tested_counts_as_not_earned_without_a_reset(
    episode, tester, episode_start
):
    count(tester.cup(episode_start), tester.cup(episode_start + timedelta(days=1)))
    count(tester.cup(episode_start + timedelta(days=2), methamphetamine=NT))
    entry = LedgerEntry.objects.get(enrollment=episode, seq=3)
    assert (entry.kind, entry.reason, entry.amount) == (
        Kind.NOT_EARNED,
        Reason.NOT_TESTED,
        Decimal("0.00"),
    )
    assert (entry.next_step, entry.restore_step) == (3, 0)


def test_an_invalid_specimen_earns_nothing_and_resets(episode, tester, episode_start):
    count(tester.cup(episode_start))
    selection = tester.order(episode_start + timedelta(days=3))
    tester.collect(selection, validity="substituted")
    count(selection)
    entry = LedgerEntry.objects.get(enrollment=episode, seq=2)
    assert (entry.kind, entry.reason, entry.next_step) == (Kind.NOT_EARNED, Reason.INVALID, 1)


def test_a_missed_test_resets_and_a_refused_one_too(episode, tester, episode_start):
    count(tester.cup(episode_start), tester.cup(episode_start + timedelta(days=1)))
    count(tester.miss(episode_start + timedelta(days=2)))
    count(tester.cup(episode_start + timedelta(days=3)))
    count(tester.refuse(episode_start + timedelta(days=4)))
    rows = list(
        LedgerEntry.objects.filter(enrollment=episode)
        .order_by("seq")
        .values_list("reason", "amount", "next_step")
    )
    assert rows == [
        (Reason.NEGATIVE, Decimal("10.00"), 2),
        (Reason.NEGATIVE, Decimal("11.50"), 3),
        (Reason.MISSED, Decimal("0.00"), 1),
        (Reason.NEGATIVE, Decimal("10.00"), 2),
        (Reason.REFUSED, Decimal("0.00"), 1),
    ]


def test_a_program_without_the_reset_on_positive_keeps_the_step(
    program, episode, tester, episode_start
):
    program.reset_on_positive = False
    program.save()
    count(tester.cup(episode_start), tester.cup(episode_start + timedelta(days=1), cocaine=POS))
    count(tester.cup(episode_start + timedelta(days=2)))
    third = LedgerEntry.objects.get(enrollment=episode, seq=3)
    assert (third.step, third.amount) == (2, Decimal("11.50"))


def test_an_excused_or_pending_test_counts_nothing(episode, tester, episode_start):
    from drugtests.models import Selection

    pending = tester.order(episode_start)
    excused = tester.order(episode_start + timedelta(days=1))
    Selection.objects.filter(pk=excused.pk).update(status=Selection.Status.EXCUSED)
    collected_unread = tester.order(episode_start + timedelta(days=2))
    tester.collect(collected_unread)
    assert count(pending, excused, collected_unread) == 0
    assert not LedgerEntry.objects.exists()


def test_a_test_before_the_episode_or_after_its_end_counts_nothing(episode, tester, episode_start):
    before = tester.cup(episode_start - timedelta(days=1))
    after = tester.cup(episode.ends_on + timedelta(days=1))
    assert count(before, after) == 0


def test_a_test_of_a_patient_without_an_episode_counts_nothing(
    program, make_patient, cm_policy, collector, episode_start
):
    from .conftest import Tester

    other = Tester(patient=make_patient(), policy=cm_policy, collector=collector)
    assert count(other.cup(episode_start)) == 0
    assert not LedgerEntry.objects.exists()


def test_after_an_episode_is_ended_its_later_tests_count_nothing(
    episode, tester, episode_start, counselor
):
    from contingency.services.ledger import cm_end

    tester_day = episode_start + timedelta(days=7)
    cm_end(
        actor=counselor,
        cm_enrollment=episode,
        reason="Moved away",
        now=tester.at(episode_start + timedelta(days=3), 12),
    )
    assert count(tester.cup(episode_start + timedelta(days=2))) == 1
    assert count(tester.cup(tester_day)) == 0


def test_a_lab_confirming_the_cup_appends_nothing(episode, tester, episode_start):
    selection = tester.cup(episode_start)
    count(selection)
    tester.result(selection, {"cocaine": NEG, "methamphetamine": NEG}, source="lab")
    assert count(selection) == 0
    assert LedgerEntry.objects.filter(enrollment=episode).count() == 1


def test_a_lab_positive_reverses_the_earning_and_resets_from_then_on(
    episode, tester, episode_start
):
    first = tester.cup(episode_start)
    second = tester.cup(episode_start + timedelta(days=1))
    count(first, second)
    tester.result(first, {"cocaine": POS}, source="lab", on=episode_start + timedelta(days=2))
    assert count(first) == 1
    reversal = LedgerEntry.objects.get(enrollment=episode, seq=3)
    assert (reversal.kind, reversal.reason, reversal.amount) == (
        Kind.REVERSAL,
        Reason.OVERTURNED,
        Decimal("-10.00"),
    )
    assert reversal.related == LedgerEntry.objects.get(enrollment=episode, seq=1)
    # 10.00 + 11.50 - 10.00; the next negative counts at step 1, step 3 kept to restore.
    assert (reversal.episode_total, reversal.balance) == (Decimal("11.50"), Decimal("11.50"))
    assert (reversal.next_step, reversal.restore_step, reversal.since_reset) == (1, 3, 0)
    assert count(first) == 0  # reversed once


def test_a_lab_negative_after_a_cup_positive_earns_at_the_step_current_then(
    episode, tester, episode_start
):
    first = tester.cup(episode_start)
    second = tester.cup(episode_start + timedelta(days=1), cocaine=POS)
    third = tester.cup(episode_start + timedelta(days=2))
    count(first, second, third)
    tester.result(second, {"cocaine": NEG}, source="lab", on=episode_start + timedelta(days=3))
    assert count(second) == 1
    recount = LedgerEntry.objects.get(enrollment=episode, seq=4)
    # After the reset the third test counted at step 1; the overturned one is the next.
    assert (recount.kind, recount.step, recount.amount) == (Kind.EARNED, 2, Decimal("11.50"))
    assert recount.related == LedgerEntry.objects.get(enrollment=episode, seq=2)
    assert recount.selection_id == second.pk
    assert count(second) == 0


def test_a_lab_positive_on_an_analyte_the_cup_did_not_test_resets(episode, tester, episode_start):
    first = tester.cup(episode_start)
    second = tester.cup(episode_start + timedelta(days=1), amphetamine=NT)
    count(first, second)
    tester.result(second, {"amphetamine": POS}, source="lab", on=episode_start + timedelta(days=2))
    assert count(second) == 1
    recount = LedgerEntry.objects.get(enrollment=episode, seq=3)
    assert (recount.kind, recount.reason, recount.next_step) == (
        Kind.NOT_EARNED,
        Reason.POSITIVE,
        1,
    )


def test_the_year_cap_runs_across_the_patients_episodes(
    program, cm_patient, counselor, tester, episode_start
):
    from contingency.services.ledger import cm_end, cm_enroll

    program.year_cap = Decimal("30.00")
    program.save()
    # Both episodes in one calendar year, whatever the suite's frozen day.
    start = episode_start.replace(month=1, day=5)
    first = cm_enroll(
        actor=counselor,
        program=program,
        patient=cm_patient,
        starts_on=start,
        ends_on=start + timedelta(days=6),
    )
    count(tester.cup(start), tester.cup(start + timedelta(days=1)))  # 10.00 + 11.50
    cm_end(actor=counselor, cm_enrollment=first, reason="Episode over", now=tester.at(start, 20))
    second = cm_enroll(
        actor=counselor, program=program, patient=cm_patient, starts_on=start + timedelta(days=7)
    )
    count(tester.cup(start + timedelta(days=7)), tester.cup(start + timedelta(days=8)))
    rows = list(
        LedgerEntry.objects.filter(enrollment=second)
        .order_by("seq")
        .values_list("reason", "amount", "episode_total", "year_total")
    )
    # 30.00 - 21.50 = 8.50 left this year; then nothing.
    assert rows == [
        (Reason.NEGATIVE, Decimal("8.50"), Decimal("8.50"), Decimal("30.00")),
        (Reason.CAPPED, Decimal("0.00"), Decimal("8.50"), Decimal("30.00")),
    ]


def test_each_count_writes_an_audit_row_as_the_ledger_system(episode, tester, episode_start):
    from core.models import AuditEvent

    count(tester.cup(episode_start))
    entry = LedgerEntry.objects.get(enrollment=episode)
    event = AuditEvent.objects.get(action="contingency.earned", object_id=str(entry.pk))
    assert (event.actor_id, event.actor_label, event.patient_id) == (
        None,
        "cm-ledger",
        episode.patient_id,
    )
