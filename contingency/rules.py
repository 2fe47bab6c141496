"""The escalating schedule as pure functions: which step a qualifying result counts at,
what a reset leaves behind, and what a step earns under the caps.

Kept apart from the services so the ledger service (which writes) and the selectors
(which tell the screens what the next negative earns) apply one rule, and so the rule
reads without any database in the way.

The state after each ledger entry is three numbers stored on the entry:
``next_step`` (the step the next qualifying result counts at, before any restore),
``restore_step`` (the step held before the last reset, to be given back after a run)
and ``since_reset`` (qualifying results in a row since that reset).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models import LedgerEntry, Program

ZERO = Decimal("0.00")
# The column is a PositiveSmallIntegerField; a step that high earns the maximum anyway.
STEP_CEILING = 32_767


@dataclass(frozen=True)
class State:
    next_step: int = 1
    restore_step: int = 0
    since_reset: int = 0


def state_after(entry: LedgerEntry | None) -> State:
    if entry is None:
        return State()
    return State(entry.next_step, entry.restore_step, entry.since_reset)


def qualifying_step(program: Program, state: State) -> int:
    """The step the next qualifying result counts at: the restored step once a run of
    ``restore_after`` qualifying results follows a reset (when it is higher)."""
    if (
        program.restore_after
        and state.restore_step > state.next_step
        and state.since_reset >= program.restore_after
    ):
        return state.restore_step
    return state.next_step


def after_qualifying(program: Program, state: State) -> State:
    step = qualifying_step(program, state)
    restored = step != state.next_step
    return State(
        next_step=min(step + 1, STEP_CEILING),
        # Given back once; a later reset records a new step to restore.
        restore_step=0 if restored else state.restore_step,
        since_reset=min(state.since_reset + 1, STEP_CEILING),
    )


def after_reset(program: Program, state: State) -> State:
    """A positive, missed or refused test (per the program's flags): the next qualifying
    result counts at step 1, and the step it would have counted at is kept to restore.
    A reset before an earlier restore was given back keeps only the newer step (what the
    next negative would have earned at that moment), as the brief's rule says."""
    would = qualifying_step(program, state)
    return State(next_step=1, restore_step=would if program.restore_after else 0, since_reset=0)


def capped_amount(
    program: Program,
    step: int,
    *,
    episode_total: Decimal,
    episode_cap: Decimal,
    year_total: Decimal,
    year_cap: Decimal,
) -> Decimal:
    """What a qualifying result at ``step`` earns: the schedule's amount, cut to what
    remains under the episode cap and the calendar-year cap (never below zero)."""
    amount = min(program.amount_at(step), episode_cap - episode_total, year_cap - year_total)
    return max(ZERO, amount).quantize(Decimal("0.01"))
