from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

NY = ZoneInfo("America/New_York")
# Monday 23 November 2026, 09:00 in New York: after the draw, before the 17:00 deadline.
MONDAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=NY)


@pytest.fixture
def policies(site, phases):
    from drugtests.models import DEFAULT_PANEL, TestingPolicy

    made = {}
    for phase, freq, period in (
        (phases[0], 2, "week"),
        (phases[1], 1, "week"),
        (phases[2], 2, "month"),
    ):
        made[phase.number] = TestingPolicy.objects.create(
            site=site,
            phase=phase,
            name=f"Phase {phase.number}",
            frequency=freq,
            period=period,
            collection_days="01234",
            deadline_time=time(17, 0),
            panel=[str(a) for a in DEFAULT_PANEL],
        )
    made[0] = TestingPolicy.objects.create(
        site=site, name="Site default", frequency=1, period="week", panel=["fentanyl"]
    )
    return made


@pytest.fixture
def always_policy(site):
    """Every eligible patient is selected (p = 5/5): deterministic tests of what follows."""
    from drugtests.models import TestingPolicy

    return TestingPolicy.objects.create(
        site=site,
        name="Daily",
        frequency=5,
        period="week",
        collection_days="01234",
        panel=["buprenorphine", "fentanyl", "methadone", "cocaine"],
    )


@pytest.fixture
def selected(patient, always_policy):
    """``patient`` drawn at random on MONDAY; returns the pending selection."""
    from drugtests.services.random_draw import draw_run

    draw_run(site=patient.site, on=MONDAY, now=NOW)
    return patient.test_selections.get()


@pytest.fixture
def pinned_clock(today):
    """09:00 in New York on the suite's frozen day: after the morning draw, before the
    17:00 deadline, so a page test asserts the same deadline text at any frozen hour."""
    import time_machine

    at = datetime.combine(today, time(9, 0), tzinfo=NY)
    with time_machine.travel(at, tick=True):
        yield at
