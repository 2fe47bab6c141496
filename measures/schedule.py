"""Which instruments fall due for one episode of care on one site-local day: the pure
rule under the daily sweep (``measures.services.schedules``), kept free of the database
so every case is a plain test.

- A schedule's repeat slots sit on a grid from the admission (admission + k x
  ``every_days``, k >= 1), not from the last sitting, so a late answer or a missed sweep
  never makes the cadence drift; a slot is due when no sitting of that instrument was
  made due on or after it.
- The level of care is the one in force that day (``level_on``), so a step down from IOP
  to OP moves BAM from weekly to monthly on the day it takes effect.
- ``at_admission``: one sitting in the first week of the episode, when none was made.
- ``at_discharge``: one sitting dated the discharge day, under the schedule of the level
  the patient left from; after the discharge nothing else falls due.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

# The admission sitting is still made when the sweep first sees the episode within this
# many days of the admission (a patient admitted on a Friday evening, a sweep that was
# down); later, the episode's first repeat slot serves as the baseline instead.
ADMISSION_WINDOW_DAYS = 7
# How long a sitting with no repeat (admission, discharge, staff request) stays open.
DEFAULT_OPEN_DAYS = 14


@dataclass(frozen=True)
class Rule:
    instrument_code: str
    every_days: int = 0
    at_admission: bool = False
    at_discharge: bool = False


@dataclass(frozen=True)
class Sitting:
    """A sitting already made for this episode, whatever became of it."""

    instrument_code: str
    reason: str
    due_on: date


@dataclass(frozen=True)
class LevelChange:
    effective_date: date
    from_level: str
    to_level: str


@dataclass(frozen=True)
class Due:
    instrument_code: str
    reason: str  # Administration.Reason values
    due_on: date


def level_on(day: date, current_level: str, changes: Sequence[LevelChange]) -> str:
    """The level of care in force on ``day``: the last change that took effect by then,
    else the level the first later change moved away from, else the current one."""
    ordered = sorted(changes, key=lambda c: c.effective_date)
    before = [c for c in ordered if c.effective_date <= day]
    if before:
        return before[-1].to_level
    if ordered:
        return ordered[0].from_level
    return current_level


def last_slot(admission: date, every_days: int, day: date) -> date | None:
    """The latest repeat slot on or before ``day`` (None before the first one)."""
    if every_days <= 0 or day < admission:
        return None
    k = (day - admission).days // every_days
    if k < 1:
        return None
    return date.fromordinal(admission.toordinal() + k * every_days)


def due_on_day(
    *,
    day: date,
    admission_date: date,
    discharge_date: date | None,
    level: str,
    rules: Mapping[str, Iterable[Rule]],
    sittings: Iterable[Sitting],
) -> list[Due]:
    """The sittings to make due on ``day`` for one episode.

    ``level`` is the level in force on ``day`` (or on the discharge day for a discharged
    episode); ``rules`` maps a level to its active schedules; ``sittings`` are the
    episode's sittings already made, any status."""
    by_code: dict[str, list[Sitting]] = {}
    for sitting in sittings:
        by_code.setdefault(sitting.instrument_code, []).append(sitting)
    due: list[Due] = []
    for rule in rules.get(level, ()):
        made = by_code.get(rule.instrument_code, [])
        if discharge_date is not None and day >= discharge_date:
            if rule.at_discharge and not any(s.reason == "discharge" for s in made):
                due.append(Due(rule.instrument_code, "discharge", discharge_date))
            continue
        if day < admission_date:
            continue
        if rule.at_admission and not made and (day - admission_date).days < ADMISSION_WINDOW_DAYS:
            due.append(Due(rule.instrument_code, "admission", day))
            continue
        slot = last_slot(admission_date, rule.every_days, day)
        if slot is not None and not any(s.due_on >= slot for s in made):
            due.append(Due(rule.instrument_code, "scheduled", day))
    return due


def open_days(reason: str, every_days: int) -> int:
    """How many days a sitting stays open before the sweep expires it: a repeating one
    until its next slot, so only one is ever open."""
    if reason == "scheduled" and every_days > 0:
        return every_days
    return DEFAULT_OPEN_DAYS
