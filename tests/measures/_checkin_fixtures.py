"""Fixtures of the check-in and safety tests: the PHQ-9 loaded by migration 0003 and an
open sitting of the ``patient`` fixture."""

from __future__ import annotations

import pytest

from measures import instrument_data
from measures.models import Administration, Instrument, InstrumentItem
from measures.services.administrations import (
    administration_complete,
    administration_create,
    administration_start,
    answer_save,
    instrument_current,
)

# Item 9 (thoughts of self-harm) answered 2: "More than half the days".
WITH_ITEM9 = [1, 2, 1, 0, 1, 2, 1, 0, 2]
WITHOUT_ITEM9 = [1, 1, 0, 0, 1, 0, 1, 0, 0]


@pytest.fixture
def phq9(db) -> Instrument:
    # A transactional test's flush empties the rows migration 0003 loaded; load them
    # again from the same JSON so the order of tests does not matter.
    instrument_data.load(Instrument, InstrumentItem, "phq9")
    return instrument_current("phq9")


@pytest.fixture
def make_sitting(phq9, today):
    def make(patient, *, instrument=None) -> Administration:
        administration = administration_create(
            actor=None,
            patient=patient,
            instrument=instrument or phq9,
            reason=Administration.Reason.SCHEDULED,
            due_on=today,
        )
        assert administration is not None
        return administration

    return make


@pytest.fixture
def sitting(make_sitting, patient) -> Administration:
    return make_sitting(patient)


def complete(administration: Administration, values: list[int], *, language: str = "en"):
    """Answer and submit a sitting through the services, as the patient."""
    user = administration.patient.user
    administration = administration_start(
        actor=user, administration=administration, mode="portal", language=language
    )
    items = administration.instrument.items.filter(required=True).order_by("number")
    for item, value in zip(items, values, strict=True):
        answer_save(actor=user, administration=administration, item=item, value=value)
    return administration_complete(actor=user, administration=administration)
