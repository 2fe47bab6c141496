"""What each section of a letter reports, on the known scenario of conftest.py."""

from datetime import date

import pytest

from letters.selectors.sections import (
    attendance_weeks,
    drug_tests,
    status_summary,
    verified_meetings,
)
from tests.conftest import SCENARIO_NOW

from .conftest import END, START, enter

pytestmark = pytest.mark.frozen(SCENARIO_NOW)


def test_attendance_weeks_count_each_kind_and_measure_whole_weeks(world):
    weeks = attendance_weeks([world.patient], START, END)[world.patient.pk]
    rows = [
        (
            w.first,
            w.last,
            w.scheduled,
            w.attended,
            w.excused,
            w.unexcused,
            w.not_recorded,
            w.attended_hours,
            w.against_minimum,
        )
        for w in weeks
    ]
    assert rows == [
        # Thu Oct 15 to Sun Oct 18: one session of the week inside the period, 150 minutes.
        (
            date(2026, 10, 15),
            date(2026, 10, 18),
            1,
            1,
            0,
            0,
            0,
            "2.5",
            "Part week: no weekly minimum applies",
        ),
        (date(2026, 10, 19), date(2026, 10, 25), 3, 3, 0, 0, 0, "9.0", "9.0 h minimum: met"),
        (date(2026, 10, 26), date(2026, 11, 1), 3, 1, 1, 1, 0, "3.0", "9.0 h minimum: not met"),
    ]


def test_a_held_session_nobody_marked_is_not_recorded_and_a_cancelled_one_is_no_absence(world):
    # Mon Nov 2 was held and nobody marked it; Tue Nov 3 (Election Day, a holiday of the
    # site's calendar) was cancelled.
    [row] = attendance_weeks([world.patient], date(2026, 11, 2), date(2026, 11, 4))[
        world.patient.pk
    ]
    assert (row.scheduled, row.attended, row.not_recorded, row.cancelled) == (1, 0, 1, 1)
    assert row.against_minimum == "Part week: no weekly minimum applies"


def test_drug_test_results_are_final_only_after_confirmation(world, nurse):
    lines = drug_tests(world.patient, START, END)
    assert [(line.day, line.collection, line.result, line.final) for line in lines] == [
        (date(2026, 10, 21), "Collected", "Negative (point-of-care screen)", True),
        (
            date(2026, 10, 27),
            "Collected",
            "Presumptive screen result; awaiting laboratory confirmation",
            False,
        ),
        (date(2026, 10, 29), "Missed", "Missed test (no specimen given by the deadline)", True),
    ]
    # The laboratory confirms the cup: now final, and named.
    presumptive = world.patient.test_selections.get(date=date(2026, 10, 27))
    enter(nurse, presumptive, "lab", "positive", date(2026, 10, 30))
    confirmed = drug_tests(world.patient, START, END)[1]
    assert (confirmed.result, confirmed.final) == ("Positive for Cocaine (laboratory)", True)


def test_a_laboratory_negative_overturns_a_positive_cup(world, nurse):
    presumptive = world.patient.test_selections.get(date=date(2026, 10, 27))
    enter(nurse, presumptive, "lab", "negative", date(2026, 10, 30))
    line = drug_tests(world.patient, START, END)[1]
    assert (line.result, line.final) == ("Negative (laboratory)", True)


def test_only_verified_meetings_held_inside_the_period(world):
    lines = verified_meetings(world.patient, START, END)
    assert [(m.day, m.name, m.fellowship) for m in lines] == [
        (date(2026, 10, 24), "Saturday Serenity", "Alcoholics Anonymous (AA)")
    ]
    assert verified_meetings(world.patient, date(2026, 10, 25), END) == []


def test_status_is_the_open_episode_today(world):
    facts = dict(status_summary(world.patient, date(2026, 11, 18)).facts)
    assert facts["Status"] == "Active"
    assert facts["Level of care"].startswith("IOP 2.1")
    assert facts["Admitted"] == "Tue Sep 1, 2026"
