"""Attendance programs: a session attended earns like a negative test, an unexcused
absence resets, an excused one counts nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from contingency.models import LedgerEntry
from contingency.services.ledger import attendances_evaluate

pytestmark = pytest.mark.django_db

Kind = LedgerEntry.Kind
Reason = LedgerEntry.Reason


def count(*rows) -> int:
    return attendances_evaluate(attendance_ids=[r.pk for r in rows])


def test_sessions_attended_earn_step_by_step_in_session_order(
    attendance_episode, attender, group_session, mark, today
):
    first = mark(group_session(today - timedelta(days=3)), attender, "present")
    second = mark(group_session(), attender, "present")
    assert count(second, first) == 2
    rows = list(
        LedgerEntry.objects.filter(enrollment=attendance_episode)
        .order_by("seq")
        .values_list("attendance_id", "kind", "reason", "step", "amount")
    )
    assert rows == [
        (first.pk, Kind.EARNED, Reason.ATTENDED, 1, Decimal("10.00")),
        (second.pk, Kind.EARNED, Reason.ATTENDED, 2, Decimal("11.50")),
    ]


def test_an_unexcused_absence_earns_nothing_and_resets(
    attendance_episode, attender, group_session, mark, today
):
    first = mark(group_session(today - timedelta(days=3)), attender, "present")
    absent = mark(group_session(), attender, "unexcused")
    count(first, absent)
    entry = LedgerEntry.objects.get(enrollment=attendance_episode, seq=2)
    assert (entry.kind, entry.reason, entry.amount, entry.next_step) == (
        Kind.NOT_EARNED,
        Reason.ABSENT,
        Decimal("0.00"),
        1,
    )


def test_an_excused_absence_counts_nothing(attendance_episode, attender, group_session, mark):
    assert count(mark(group_session(), attender, "excused")) == 0


def test_a_session_counts_once(attendance_episode, attender, group_session, mark):
    row = mark(group_session(), attender, "present")
    count(row)
    assert count(row) == 0


def test_attendance_counts_nothing_on_a_test_program(
    program, attender, counselor, group_session, mark, episode_start
):
    from contingency.services.ledger import cm_enroll

    cm_enroll(actor=counselor, program=program, patient=attender, starts_on=episode_start)
    assert count(mark(group_session(), attender, "present")) == 0
