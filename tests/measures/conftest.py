"""Shared measures fixtures: the loaded instruments (migrations 0003/0004) and a helper
that takes a sitting from due to completed through the real services."""

from __future__ import annotations

from datetime import datetime

import pytest

from measures.models import Administration, Instrument
from measures.services.administrations import (
    administration_complete,
    administration_create,
    administration_start,
    answer_save,
    instrument_current,
)


@pytest.fixture
def instruments(db) -> dict[str, Instrument]:
    return {code: instrument_current(code) for code in ("bam", "gad7", "phq9")}


@pytest.fixture
def complete_sitting(instruments, today, test_now):
    """complete_sitting(patient, "phq9", {1: 2, ...}, actor=user, mode="portal")."""

    def complete(
        patient,
        code: str,
        answers: dict[int, int],
        *,
        actor,
        mode: str = Administration.Mode.PORTAL,
        language: str = "en",
        reason: str = Administration.Reason.AD_HOC,
        due_on=None,
        now: datetime | None = None,
    ) -> Administration:
        now = now or test_now
        instrument = instruments[code]
        administration = administration_create(
            actor=actor,
            patient=patient,
            instrument=instrument,
            reason=reason,
            due_on=due_on or today,
            now=now,
        )
        assert administration is not None
        administration = administration_start(
            actor=actor, administration=administration, mode=mode, language=language, now=now
        )
        items = {i.number: i for i in instrument.items.all()}
        for number, value in answers.items():
            answer_save(
                actor=actor, administration=administration, item=items[number], value=value, now=now
            )
        return administration_complete(actor=actor, administration=administration, now=now)

    return complete
