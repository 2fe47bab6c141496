"""The issue's replay: 40 results for one enrolled patient, through drugtests' real
services and the real signal -> receiver -> task path, give exactly the ledger written
below by hand from the rules (CLINICAL.md, "Contingency management"), not from the code.

The program is the default (California's Recovery Incentives Program): $10.00 for the
first negative, $1.50 more for each consecutive one, at most $26.50 a test; a positive,
a missed or a refused test resets to $10.00; after 5 consecutive negatives following a
reset the step held before the reset comes back. Only the episode cap is lowered, to
$500.00, so that 40 results cross it (with $599.00 this script ends at $585.50).

The schedule, amount_at(step) = min(10.00 + 1.50 x (step - 1), 26.50):
  step  1: 10.00   step  2: 11.50   step  3: 13.00   step  4: 14.50   step  5: 16.00
  step  6: 17.50   step  7: 19.00   step  8: 20.50   step  9: 22.00   step 10: 23.50
  step 11: 25.00   step 12 and later: 26.50 (10.00 + 16.50)
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from contingency.models import LedgerEntry

from .conftest import NEG, POS

pytestmark = pytest.mark.django_db

E, N, R = "earned", "not_earned", "reversal"

# (result, what happens, kind, reason, step counted at, amount, episode total after).
# T1..T39 are tests in order (Mondays and Thursdays); result 29 is the lab's report on T27.
EXPECTED = [
    (1, "T1 negative", E, "negative", 1, "10.00", "10.00"),
    (2, "T2 negative", E, "negative", 2, "11.50", "21.50"),  # 10.00 + 11.50
    # THC is not a target analyte: the test still earns.
    (3, "T3 negative, THC positive", E, "negative", 3, "13.00", "34.50"),
    (4, "T4 negative", E, "negative", 4, "14.50", "49.00"),
    (5, "T5 negative", E, "negative", 5, "16.00", "65.00"),
    (6, "T6 negative", E, "negative", 6, "17.50", "82.50"),
    (7, "T7 negative", E, "negative", 7, "19.00", "101.50"),
    (8, "T8 negative", E, "negative", 8, "20.50", "122.00"),
    # Would have been step 9: reset to 1, step 9 kept to restore after 5 negatives.
    (9, "T9 cocaine positive", N, "positive", 9, "0.00", "122.00"),
    (10, "T10 negative", E, "negative", 1, "10.00", "132.00"),
    (11, "T11 negative", E, "negative", 2, "11.50", "143.50"),
    (12, "T12 negative", E, "negative", 3, "13.00", "156.50"),
    (13, "T13 negative", E, "negative", 4, "14.50", "171.00"),
    (14, "T14 negative", E, "negative", 5, "16.00", "187.00"),  # the 5th in a row
    # 5 negatives since the reset: this one counts at the restored step 9.
    (15, "T15 negative", E, "negative", 9, "22.00", "209.00"),
    (16, "T16 negative", E, "negative", 10, "23.50", "232.50"),
    # Would have been step 11: reset, 11 kept to restore.
    (17, "T17 missed", N, "missed", 11, "0.00", "232.50"),
    (18, "T18 negative", E, "negative", 1, "10.00", "242.50"),
    # Would have been step 2 (only 1 negative since the last reset, so 11 is not
    # restored yet): reset, and now 2 is the step kept (the newer reset's).
    (19, "T19 refused", N, "refused", 2, "0.00", "242.50"),
    (20, "T20 negative", E, "negative", 1, "10.00", "252.50"),
    (21, "T21 negative", E, "negative", 2, "11.50", "264.00"),
    (22, "T22 negative", E, "negative", 3, "13.00", "277.00"),
    (23, "T23 negative", E, "negative", 4, "14.50", "291.50"),
    (24, "T24 negative", E, "negative", 5, "16.00", "307.50"),
    # The step kept (2) is not above the current one (6): no restore.
    (25, "T25 negative", E, "negative", 6, "17.50", "325.00"),
    (26, "T26 negative", E, "negative", 7, "19.00", "344.00"),
    (27, "T27 cup negative (the lab disagrees later)", E, "negative", 8, "20.50", "364.50"),
    (28, "T28 negative", E, "negative", 9, "22.00", "386.50"),
    # The lab finds methamphetamine in T27: its 20.50 is reversed (386.50 - 20.50) and
    # the schedule resets as a positive would; step 10 (the next one) is kept.
    (29, "lab: T27 methamphetamine positive", R, "overturned", 8, "-20.50", "366.00"),
    (30, "T29 negative", E, "negative", 1, "10.00", "376.00"),
    (31, "T30 negative", E, "negative", 2, "11.50", "387.50"),
    (32, "T31 negative", E, "negative", 3, "13.00", "400.50"),
    (33, "T32 negative", E, "negative", 4, "14.50", "415.00"),
    (34, "T33 negative", E, "negative", 5, "16.00", "431.00"),
    (35, "T34 negative", E, "negative", 10, "23.50", "454.50"),  # restored step 10
    (36, "T35 negative", E, "negative", 11, "25.00", "479.50"),
    # 26.50 would pass the $500.00 cap: the remainder, 500.00 - 479.50 = 20.50.
    (37, "T36 negative", E, "negative", 12, "20.50", "500.00"),
    # At the cap: qualifying, earns 0, the step still advances.
    (38, "T37 negative", E, "capped", 13, "0.00", "500.00"),
    (39, "T38 negative", E, "capped", 14, "0.00", "500.00"),
    (40, "T39 negative", E, "capped", 15, "0.00", "500.00"),
]


@pytest.fixture
def small_cap_program(program):
    program.episode_cap = Decimal("500.00")
    program.save()
    return program


def test_forty_results_give_exactly_the_hand_written_ledger(
    small_cap_program,
    episode,
    tester,
    episode_start,
    run_tasks_inline,
    django_capture_on_commit_callbacks,
):
    def day(n: int):
        """Test n (1-based) on Monday or Thursday of week (n - 1) // 2."""
        return episode_start + timedelta(weeks=(n - 1) // 2, days=0 if n % 2 else 3)

    def run(action):
        # Each write commits (here: its on-commit callbacks run), and the receiver's
        # task counts it, as the worker would.
        with django_capture_on_commit_callbacks(execute=True):
            return action()

    t27 = None
    for n in range(1, 40):
        if n == 3:
            run(lambda n=n: tester.cup(day(n), thc=POS))
        elif n == 9:
            run(lambda n=n: tester.cup(day(n), cocaine=POS))
        elif n == 17:
            run(lambda n=n: tester.miss(day(n)))
        elif n == 19:
            run(lambda n=n: tester.refuse(day(n)))
        elif n == 27:
            t27 = run(lambda n=n: tester.cup(day(n)))
        else:
            run(lambda n=n: tester.cup(day(n)))
        if n == 28:
            # Result 29: the lab's confirmation of T27, reported the day after T28.
            lab_day = day(28) + timedelta(days=1)
            run(
                lambda lab_day=lab_day, t27=t27: tester.result(
                    t27,
                    {"cocaine": NEG, "amphetamine": NEG, "methamphetamine": POS, "mdma": NEG},
                    source="lab",
                    on=lab_day,
                )
            )

    got = [
        (e.kind, e.reason, e.step, str(e.amount), str(e.episode_total))
        for e in LedgerEntry.objects.filter(enrollment=episode).order_by("seq")
    ]
    want = [
        (kind, reason, step, amount, total) for _, _, kind, reason, step, amount, total in EXPECTED
    ]
    assert got == want
    # Nothing handed out: the balance is the total, the year's total too (one patient,
    # one episode; the year cap of $750.00 is never near).
    last = LedgerEntry.objects.filter(enrollment=episode).order_by("-seq").first()
    assert last.balance == Decimal("500.00")
    assert last.seq == 40
    # The reversal names the entry it reverses: T27's.
    reversal = LedgerEntry.objects.get(enrollment=episode, kind=R)
    assert reversal.related.selection_id == t27.pk and reversal.related.seq == 27
    # Every count went through the signal and the task.
    assert len(run_tasks_inline) == 40
