"""The pure rule: which instruments fall due for one episode on one day."""

from __future__ import annotations

from datetime import date, timedelta

from measures.schedule import (
    LevelChange,
    Rule,
    Sitting,
    due_on_day,
    last_slot,
    level_on,
    open_days,
)

ADMITTED = date(2026, 9, 1)
IOP, OP = "2.1", "1.0"
RULES = {
    IOP: [Rule("bam", 7), Rule("phq9", 30, at_admission=True, at_discharge=True)],
    OP: [Rule("bam", 30), Rule("phq9", 30, at_admission=True, at_discharge=True)],
}


def _due(day, sittings=(), level=IOP, discharged=None):
    return {
        (d.instrument_code, d.reason, d.due_on)
        for d in due_on_day(
            day=day,
            admission_date=ADMITTED,
            discharge_date=discharged,
            level=level,
            rules=RULES,
            sittings=list(sittings),
        )
    }


def test_admission_day_asks_the_admission_instruments_only():
    assert _due(ADMITTED) == {("phq9", "admission", ADMITTED)}


def test_admission_sitting_is_made_late_within_the_first_week():
    late = ADMITTED + timedelta(days=3)
    assert ("phq9", "admission", late) in _due(late)


def test_no_admission_sitting_after_the_first_week():
    assert not any(reason == "admission" for _, reason, _ in _due(ADMITTED + timedelta(days=8)))


def test_weekly_bam_falls_due_on_its_slot_from_the_admission():
    day = ADMITTED + timedelta(days=7)
    assert ("bam", "scheduled", day) in _due(day)
    assert not any(code == "bam" for code, _, _ in _due(day - timedelta(days=1)))


def test_a_slot_already_covered_by_a_sitting_is_not_due_again():
    day = ADMITTED + timedelta(days=9)
    made = [Sitting("bam", "scheduled", ADMITTED + timedelta(days=7))]
    assert not any(code == "bam" for code, _, _ in _due(day, made))


def test_a_missed_sweep_still_makes_the_slot_due_later_without_drift():
    # The sweep did not run on day 7; on day 9 the slot is made, and the next slot is
    # still day 14 (the grid from the admission), not day 16.
    made = [Sitting("bam", "scheduled", ADMITTED + timedelta(days=9))]
    assert ("bam", "scheduled", ADMITTED + timedelta(days=9)) in _due(ADMITTED + timedelta(days=9))
    assert not any(code == "bam" for code, _, _ in _due(ADMITTED + timedelta(days=13), made))
    assert ("bam", "scheduled", ADMITTED + timedelta(days=14)) in _due(
        ADMITTED + timedelta(days=14), made
    )


def test_phq9_repeats_every_30_days_after_the_admission_sitting():
    made = [Sitting("phq9", "admission", ADMITTED)]
    assert not any(code == "phq9" for code, _, _ in _due(ADMITTED + timedelta(days=29), made))
    day = ADMITTED + timedelta(days=30)
    assert ("phq9", "scheduled", day) in _due(day, made)


def test_op_level_asks_bam_monthly_not_weekly():
    day = ADMITTED + timedelta(days=7)
    assert not any(code == "bam" for code, _, _ in _due(day, level=OP))
    assert ("bam", "scheduled", ADMITTED + timedelta(days=30)) in _due(
        ADMITTED + timedelta(days=30), level=OP
    )


def test_discharge_asks_the_discharge_instruments_once_dated_the_discharge_day():
    out = ADMITTED + timedelta(days=40)
    assert _due(out + timedelta(days=1), discharged=out) == {("phq9", "discharge", out)}
    made = [Sitting("phq9", "discharge", out)]
    assert _due(out + timedelta(days=1), made, discharged=out) == set()


def test_nothing_is_due_before_the_admission():
    assert _due(ADMITTED - timedelta(days=1)) == set()


def test_level_on_a_day_follows_the_changes_in_force():
    changes = [LevelChange(ADMITTED + timedelta(days=20), IOP, OP)]
    assert level_on(ADMITTED + timedelta(days=19), OP, changes) == IOP
    assert level_on(ADMITTED + timedelta(days=20), OP, changes) == OP
    assert level_on(ADMITTED, IOP, []) == IOP


def test_last_slot_is_none_before_the_first_repeat():
    assert last_slot(ADMITTED, 7, ADMITTED + timedelta(days=6)) is None
    assert last_slot(ADMITTED, 7, ADMITTED + timedelta(days=15)) == ADMITTED + timedelta(days=14)
    assert last_slot(ADMITTED, 0, ADMITTED + timedelta(days=15)) is None


def test_a_repeating_sitting_stays_open_until_its_next_slot():
    assert open_days("scheduled", 7) == 7
    assert open_days("admission", 30) == 14
