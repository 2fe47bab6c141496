"""The page benchmark's fixed clinic weekday (bench/clock.py) and its BENCH_PAGES knob."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bench import clock
from bench.pages import PAGES, selected_pages

NY = ZoneInfo("America/New_York")


def test_the_default_bench_clock_is_a_wednesday_morning_in_new_york():
    at = clock.bench_now({})
    assert at == datetime(2026, 11, 18, 10, 0, tzinfo=NY)
    assert at.weekday() == 2


def test_bench_now_real_keeps_the_wall_clock():
    assert clock.destination({"BENCH_NOW": "real"}) is None


def test_bench_now_without_an_offset_is_refused():
    with pytest.raises(ValueError, match="offset"):
        clock.bench_now({"BENCH_NOW": "2026-11-18T10:00:00"})


def test_a_process_started_later_continues_the_runs_clock():
    started = time.time() - 90
    at = clock.destination(
        {"BENCH_NOW": "2026-11-18T10:00:00-05:00", "BENCH_CLOCK_STARTED": str(started)}
    )
    assert timedelta(seconds=90) <= at - datetime(2026, 11, 18, 10, 0, tzinfo=NY)
    assert at - datetime(2026, 11, 18, 10, 0, tzinfo=NY) < timedelta(seconds=100)


def test_bench_pages_measures_the_named_pages_in_their_order():
    chosen = selected_pages("drug-test day list, staff home")
    assert [name for name, _, _ in chosen] == ["staff home", "drug-test day list"]


def test_bench_pages_unset_measures_every_page():
    assert selected_pages("") == PAGES


def test_bench_pages_refuses_an_unknown_name():
    with pytest.raises(SystemExit, match="no such page"):
        selected_pages("staff home,stafff home")


def test_the_first_process_anchors_the_clock_for_the_ones_it_starts(monkeypatch):
    import time_machine

    environ = {"BENCH_NOW": "2026-11-18T10:00:00-05:00"}
    started = []
    monkeypatch.setattr(time_machine, "travel", lambda at, tick: started.append(at) or _NoTravel())
    clock.start(environ)
    assert float(environ["BENCH_CLOCK_STARTED"]) <= time.time()
    assert started[0] >= datetime(2026, 11, 18, 10, 0, tzinfo=NY)


class _NoTravel:
    def start(self) -> None:
        pass
