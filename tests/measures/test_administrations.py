"""The sitting's lifecycle services: due, started, answered one by one, completed and
scored, locked; a safety item above 0 raises a safety event."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from measures.models import Administration, Answer, SafetyEvent
from measures.services.administrations import (
    administration_complete,
    administration_create,
    administration_start,
    answer_save,
    instrument_current,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def phq9():
    return instrument_current("phq9")


@pytest.fixture
def sitting(patient, phq9, counselor, today):
    administration = administration_create(
        actor=counselor, patient=patient, instrument=phq9, reason="scheduled", due_on=today
    )
    return administration_start(
        actor=patient.user or counselor, administration=administration, mode="portal"
    )


def _answer_all(sitting, actor, values):
    for item, value in zip(sitting.instrument.items.order_by("number"), values, strict=False):
        answer_save(actor=actor, administration=sitting, item=item, value=value)


def test_create_returns_none_when_one_is_already_open(patient, phq9, counselor, today):
    first = administration_create(
        actor=counselor, patient=patient, instrument=phq9, reason="scheduled", due_on=today
    )
    again = administration_create(
        actor=counselor, patient=patient, instrument=phq9, reason="ad_hoc", due_on=today
    )
    assert first is not None and again is None
    assert Administration.objects.filter(patient=patient).count() == 1


def test_complete_scores_total_band_and_flags(sitting, counselor):
    _answer_all(sitting, counselor, [2, 2, 2, 2, 2, 2, 2, 1, 0])
    done = administration_complete(actor=counselor, administration=sitting)
    done.refresh_from_db()
    assert (done.status, done.total, done.band, done.flags) == (
        "completed",
        15,
        "Moderately severe",
        [],
    )
    assert not SafetyEvent.objects.filter(administration=done).exists()


def test_complete_refuses_unanswered_questions(sitting, counselor):
    _answer_all(sitting, counselor, [1, 1, 1])
    with pytest.raises(ValidationError, match="Answer every question"):
        administration_complete(actor=counselor, administration=sitting)
    sitting.refresh_from_db()
    assert sitting.status == "in_progress"


def test_answer_outside_the_options_is_refused(sitting, counselor):
    item = sitting.instrument.items.get(number=1)
    with pytest.raises(ValidationError, match="Choose one of the answers"):
        answer_save(actor=counselor, administration=sitting, item=item, value=4)
    assert not Answer.objects.filter(administration=sitting).exists()


def test_answer_can_change_until_completed(sitting, counselor):
    item = sitting.instrument.items.get(number=1)
    answer_save(actor=counselor, administration=sitting, item=item, value=1)
    answer_save(actor=counselor, administration=sitting, item=item, value=3)
    assert Answer.objects.get(administration=sitting, item=item).value == 3


def test_completed_sitting_refuses_new_answers(sitting, counselor):
    _answer_all(sitting, counselor, [0] * 9)
    administration_complete(actor=counselor, administration=sitting)
    item = sitting.instrument.items.get(number=1)
    with pytest.raises(ValidationError, match="already complete"):
        answer_save(actor=counselor, administration=sitting, item=item, value=1)


def test_item_nine_above_zero_raises_a_safety_event_for_the_counselor(sitting, counselor, patient):
    _answer_all(sitting, counselor, [1, 1, 1, 1, 1, 1, 1, 1, 2])
    administration_complete(actor=counselor, administration=sitting)
    event = SafetyEvent.objects.get(administration=sitting)
    assert (event.item_number, event.value, event.owner, event.followup_at) == (
        9,
        2,
        patient.primary_counselor,
        None,
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL trigger")
def test_database_refuses_changing_a_completed_sitting(sitting, counselor):
    _answer_all(sitting, counselor, [0] * 9)
    administration_complete(actor=counselor, administration=sitting)
    with pytest.raises(IntegrityError), transaction.atomic():
        Administration.objects.filter(pk=sitting.pk).update(total=27)
    with pytest.raises(IntegrityError), transaction.atomic():
        Answer.objects.filter(administration=sitting).update(value=3)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL trigger")
def test_database_refuses_deleting_any_sitting(patient, phq9, counselor, today):
    due = administration_create(
        actor=counselor, patient=patient, instrument=phq9, reason="scheduled", due_on=today
    )
    with (
        pytest.raises(IntegrityError, match="never deleted"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM measures_administration WHERE id = %s", [due.pk])
