"""Sittings for the chart's tests, written through the real services at chosen instants
(derived from the frozen now), and a small BAM-like instrument with subscales."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from measures.models import Administration, Instrument, InstrumentItem
from measures.services.administrations import (
    administration_complete,
    administration_create,
    administration_start,
    answer_save,
    instrument_current,
)

OPTIONS = [
    {"value": v, "code": f"LA-{v}", "en": f"Option {v}", "es": f"Opción {v}"} for v in range(4)
]


def spread(total: int, items: int, top: int = 3) -> list[int]:
    """``total`` over ``items`` answers of 0..top, the first items first."""
    values = []
    for _ in range(items):
        take = min(top, total)
        values.append(take)
        total -= take
    assert total == 0, "total too large for the items"
    return values


def sit(
    patient,
    instrument: Instrument,
    values: dict[int, int],
    *,
    at: datetime,
    actor,
    mode: str = Administration.Mode.PORTAL,
) -> Administration:
    """Complete one sitting with ``values`` (item number -> value) at ``at``."""
    made = administration_create(
        actor=None,
        patient=patient,
        instrument=instrument,
        reason=Administration.Reason.SCHEDULED,
        due_on=at.date(),
        now=at,
    )
    assert made is not None
    made = administration_start(actor=actor, administration=made, mode=mode, now=at)
    for item in instrument.items.all():
        answer_save(
            actor=actor, administration=made, item=item, value=values.get(item.number, 0), now=at
        )
    return administration_complete(actor=actor, administration=made, now=at)


def sit_phq9(patient, total: int, *, at: datetime, actor, item9: int = 0, **kw):
    instrument = instrument_current("phq9")
    rest = spread(total - item9, 8)
    values = {n + 1: v for n, v in enumerate(rest)}
    values[9] = item9
    return sit(patient, instrument, values, at=at, actor=actor, **kw)


@pytest.fixture
def phq9_series(patient, test_now):
    """PHQ-9 at 18, 15, 12 and 9, two weeks apart, the last a day before now."""

    def build(totals=(18, 15, 12, 9), who=None):
        actor = who or patient.user
        start = test_now - timedelta(days=1 + 14 * (len(totals) - 1))
        return [
            sit_phq9(patient, total, at=start + timedelta(days=14 * i), actor=actor)
            for i, total in enumerate(totals)
        ]

    return build


@pytest.fixture
def bam_like(db):
    """A BAM-shaped instrument: six items, three subscales with their flag thresholds."""
    instrument = Instrument.objects.create(
        code="bamx",
        version="1",
        name="Brief monitor (test)",
        short_name="BAMX",
        intro_en="In the past 30 days:",
        intro_es="En los últimos 30 días:",
        scoring={
            "total": [1, 2, 3, 4, 5, 6],
            "subscales": {
                "use": {"label": "Use", "items": [1, 2]},
                "risk": {
                    "label": "Risk",
                    "items": [3, 4],
                    "flags": [{"op": ">=", "value": 4, "label": "Risk >= 4"}],
                },
                "protective": {
                    "label": "Protective",
                    "items": [5, 6],
                    "flags": [{"op": "<=", "value": 2, "label": "Protective <= 2"}],
                },
            },
        },
    )
    for n in range(1, 7):
        InstrumentItem.objects.create(
            instrument=instrument,
            number=n,
            link_id=str(n),
            text_en=f"Question {n}",
            text_es=f"Pregunta {n}",
            options=OPTIONS,
        )
    return instrument
