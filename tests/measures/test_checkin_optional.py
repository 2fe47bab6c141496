"""Optional questions in the portal check-in (the PHQ-9's difficulty question, the BAM's
7a-7g): asked once, skippable, never holding the sitting back; and the paper form's order."""

from __future__ import annotations

import pytest
from django.urls import reverse

from measures.models import Answer
from measures.selectors.checkin import sitting_for
from measures.services.administrations import administration_create, instrument_current

from ._checkin_fixtures import WITHOUT_ITEM9, make_sitting, phq9, sitting

__all__ = ["make_sitting", "phq9", "sitting"]


@pytest.fixture
def portal(client, patient):
    client.force_login(patient.user)
    return client


def _item(administration, number: int) -> str:
    return reverse("measures:checkin_item", args=[administration.pk, number])


def _answer_required(client, administration) -> None:
    for number, value in enumerate(WITHOUT_ITEM9, start=1):
        assert client.post(_item(administration, number), {"value": str(value)}).status_code == 302


def test_after_the_ninth_answer_the_optional_question_is_asked(portal, sitting):
    _answer_required(portal, sitting)
    response = portal.post(_item(sitting, 9), {"value": "0"})
    assert response.url == _item(sitting, 10)
    page = portal.get(_item(sitting, 10))
    assert b'name="skip"' in page.content


def test_skipping_the_optional_question_goes_to_the_review_and_saves_nothing(portal, sitting):
    _answer_required(portal, sitting)
    response = portal.post(_item(sitting, 10), {"skip": "1"})
    assert response.url == reverse("measures:checkin_review", args=[sitting.pk])
    assert not Answer.objects.filter(administration=sitting, item__number=10).exists()


def test_a_required_question_cannot_be_skipped(portal, sitting):
    response = portal.post(_item(sitting, 1), {"skip": "1"})
    assert response.status_code == 422
    assert not Answer.objects.filter(administration=sitting).exists()


def test_the_sitting_completes_with_the_optional_question_unanswered(portal, sitting):
    _answer_required(portal, sitting)
    portal.post(reverse("measures:checkin_review", args=[sitting.pk]))
    sitting.refresh_from_db()
    assert sitting.status == "completed"


@pytest.mark.django_db
def test_the_bam_is_asked_in_the_paper_forms_order(patient, today):
    bam = instrument_current("bam")
    administration = administration_create(
        actor=None, patient=patient, instrument=bam, reason="ad_hoc", due_on=today
    )
    links = [item.link_id for item in sitting_for(administration).items]
    assert links[:8] == ["1", "2", "3", "4", "5", "6", "7a", "7b"]
    assert links[-1] == "17"
