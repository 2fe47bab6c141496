"""The patient's check-in in the portal: one question per screen, resumable, a review and
a done page that leads with crisis resources when item 9 is above 0."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from measures.models import Administration, Answer, SafetyEvent

from ._checkin_fixtures import WITH_ITEM9, WITHOUT_ITEM9, complete, make_sitting, phq9, sitting

__all__ = ["make_sitting", "phq9", "sitting"]

CRISIS_EN = (
    "If you are thinking about harming yourself, help is available now: call or text 988 "
    "(Suicide &amp; Crisis Lifeline), or call 911 in an emergency."
)
CRISIS_ES = "Si está pensando en hacerse daño, hay ayuda ahora mismo: llame o envíe un mensaje"


def _item(administration, number: int) -> str:
    return reverse("measures:checkin_item", args=[administration.pk, number])


def _answer_all(client, administration, values: list[int]) -> None:
    for number, value in enumerate(values, start=1):
        response = client.post(_item(administration, number), {"value": str(value)})
        assert response.status_code == 302, response.content[:500]


@pytest.fixture
def portal(client, patient):
    client.force_login(patient.user)
    return client


# --- access ---------------------------------------------------------------------------


def test_owner_sees_their_open_checkin_in_the_list(portal, sitting):
    response = portal.get(reverse("measures:checkins"))
    assert response.status_code == 200
    assert b'data-testid="checkin"' in response.content
    assert b"PHQ-9" in response.content


def test_another_patient_gets_404_on_every_checkin_page(client, other_patient, sitting):
    client.force_login(other_patient.user)
    for url in (
        _item(sitting, 1),
        reverse("measures:checkin_review", args=[sitting.pk]),
        reverse("measures:checkin_done", args=[sitting.pk]),
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(_item(sitting, 1), {"value": "1"}).status_code == 404
    assert (
        client.post(
            reverse("measures:checkin_language", args=[sitting.pk]), {"language": "es"}
        ).status_code
        == 404
    )
    assert not Answer.objects.filter(administration=sitting).exists()


def test_staff_are_refused_the_portal_checkin(client, counselor, sitting):
    client.force_login(counselor)
    assert client.get(_item(sitting, 1)).status_code == 403
    assert client.get(reverse("measures:checkins")).status_code == 403


# --- one question per screen -----------------------------------------------------------


def test_question_page_shows_the_intro_the_position_and_the_options(portal, sitting):
    response = portal.get(_item(sitting, 3))
    body = response.content.decode()
    assert response.status_code == 200
    # Ten questions: the PHQ-9 and its optional difficulty question.
    assert "Question 3 of 10" in body
    assert "Over the last 2 weeks" in body
    assert "Trouble falling or staying asleep" in body
    assert body.count('class="btn-check" type="radio"') == 4
    assert _item(sitting, 2) in body  # the Back link


def test_an_answer_is_saved_and_the_next_question_follows(portal, sitting):
    response = portal.post(_item(sitting, 1), {"value": "2"})
    assert response.status_code == 302
    assert response["Location"] == _item(sitting, 2)
    sitting.refresh_from_db()
    assert sitting.status == Administration.Status.IN_PROGRESS
    assert sitting.mode == Administration.Mode.PORTAL
    assert sitting.entered_by == sitting.patient.user
    assert list(Answer.objects.filter(administration=sitting).values_list("value", flat=True)) == [
        2
    ]


def test_coming_back_continues_at_the_first_unanswered_question(portal, sitting):
    _answer_all(portal, sitting, [1, 1, 1])
    response = portal.get(_item(sitting, 1) + "?resume=1")
    assert response.status_code == 200
    assert "Question 4 of 10" in response.content.decode()
    assert f'action="{_item(sitting, 4)}"' in response.content.decode()


def test_coming_back_with_every_question_answered_goes_to_the_review(portal, sitting):
    _answer_all(portal, sitting, WITHOUT_ITEM9)
    response = portal.get(_item(sitting, 1) + "?resume=1")
    assert response["Location"] == reverse("measures:checkin_review", args=[sitting.pk])


def test_changing_an_earlier_answer_goes_on_to_the_first_unanswered(portal, sitting):
    _answer_all(portal, sitting, [1, 1, 1, 1])
    response = portal.post(_item(sitting, 2), {"value": "3"})
    assert response["Location"] == _item(sitting, 5)
    assert Answer.objects.get(administration=sitting, item__number=2).value == 3


def test_a_value_not_among_the_options_is_refused_with_a_message(portal, sitting):
    response = portal.post(_item(sitting, 1), {"value": "7"})
    assert response.status_code == 422
    assert b"Choose one of the answers." in response.content
    assert not Answer.objects.filter(administration=sitting).exists()


def test_a_question_number_beyond_the_items_says_so_and_goes_to_the_next(portal, sitting):
    response = portal.get(_item(sitting, 42), follow=True)
    assert response.status_code == 200
    assert b"That question is not part of this check-in" in response.content
    assert response.redirect_chain[-1][0] == _item(sitting, 1)


def test_a_completed_sitting_takes_no_more_answers(portal, sitting):
    complete(sitting, WITHOUT_ITEM9)
    response = portal.post(_item(sitting, 1), {"value": "3"}, follow=True)
    assert response.status_code == 200
    assert b"already complete" in response.content
    assert Answer.objects.get(administration=sitting, item__number=1).value == 1


# --- review and submit -----------------------------------------------------------------


def test_the_review_lists_every_answer_and_submit_completes(portal, sitting):
    _answer_all(portal, sitting, WITHOUT_ITEM9)
    review = portal.get(reverse("measures:checkin_review", args=[sitting.pk]))
    assert review.content.decode().count('data-testid="review-row"') == 10
    response = portal.post(reverse("measures:checkin_review", args=[sitting.pk]))
    assert response["Location"] == reverse("measures:checkin_done", args=[sitting.pk])
    sitting.refresh_from_db()
    assert sitting.status == Administration.Status.COMPLETED
    assert sitting.total == sum(WITHOUT_ITEM9)
    assert not SafetyEvent.objects.filter(administration=sitting).exists()


def test_submitting_with_a_question_unanswered_goes_back_to_it(portal, sitting):
    _answer_all(portal, sitting, [1, 1, 1, 1, 1])
    response = portal.post(reverse("measures:checkin_review", args=[sitting.pk]))
    assert response["Location"] == _item(sitting, 6)
    sitting.refresh_from_db()
    assert sitting.status == Administration.Status.IN_PROGRESS


def test_spanish_shows_the_questions_and_answers_in_spanish(portal, sitting):
    response = portal.post(
        reverse("measures:checkin_language", args=[sitting.pk]), {"language": "es", "number": "2"}
    )
    assert response["Location"] == _item(sitting, 2)
    sitting.refresh_from_db()
    assert sitting.language == "es"
    body = portal.get(_item(sitting, 2)).content.decode()
    assert "Pregunta 2 de 10" in body
    assert "Durante las últimas 2 semanas" in body
    assert "Ningún día" in body  # the published US-Spanish PHQ-9


def test_an_unknown_language_is_refused_with_a_message(portal, sitting):
    response = portal.post(
        reverse("measures:checkin_language", args=[sitting.pk]), {"language": "fr"}, follow=True
    )
    assert b"Choose English or Espa" in response.content
    sitting.refresh_from_db()
    assert sitting.language == "en"


# --- the done page ---------------------------------------------------------------------


def test_item_9_above_0_puts_crisis_resources_first_on_the_done_page(portal, sitting):
    _answer_all(portal, sitting, WITH_ITEM9)
    response = portal.post(reverse("measures:checkin_review", args=[sitting.pk]), follow=True)
    body = response.content.decode()
    assert SafetyEvent.objects.filter(administration=sitting, value=2).exists()
    crisis = body.index('data-testid="crisis-box"')
    assert crisis < body.index('<h1 class="h3">Thank you')
    assert crisis < body.index("<p>Your answers are saved.")
    assert CRISIS_EN in body
    assert 'href="tel:988"' in body and 'href="sms:988"' in body
    assert "Your counselor will contact you today." in body
    # Never the score.
    main = body[body.index("<main") : body.index("</main>")]
    assert not re.search(rf"\b{sum(WITH_ITEM9)}\b", main)
    assert "Moderate" not in main and "score" not in main.lower()


def test_the_crisis_box_speaks_the_sittings_language(portal, sitting):
    complete(sitting, WITH_ITEM9, language="es")
    body = portal.get(reverse("measures:checkin_done", args=[sitting.pk])).content.decode()
    assert CRISIS_ES in body
    assert "Su consejero se comunicará con usted hoy." in body


def test_no_crisis_box_without_a_safety_answer(portal, sitting):
    complete(sitting, WITHOUT_ITEM9)
    body = portal.get(reverse("measures:checkin_done", args=[sitting.pk])).content.decode()
    assert 'data-testid="crisis-box"' not in body
    assert "Thank you" in body


# --- the portal home -------------------------------------------------------------------


def test_the_portal_home_invites_to_an_open_checkin(portal, sitting):
    body = portal.get(reverse("home")).content.decode()
    assert "You have a short check-in to complete" in body
    assert _item(sitting, 1) + "?resume=1" in body


def test_no_invitation_once_the_checkin_is_done(portal, sitting):
    complete(sitting, WITHOUT_ITEM9)
    assert b"You have a short check-in" not in portal.get(reverse("home")).content


# --- pinned query counts ---------------------------------------------------------------


def test_the_question_page_runs_a_fixed_number_of_queries(
    portal, sitting, django_assert_num_queries
):
    _answer_all(portal, sitting, [1, 1])
    portal.get(_item(sitting, 3))  # warm per-process caches
    with django_assert_num_queries(QUESTION_PAGE_QUERIES):
        assert portal.get(_item(sitting, 3)).status_code == 200


def test_the_portal_home_with_the_panel_runs_a_fixed_number_of_queries(
    portal, sitting, django_assert_num_queries
):
    portal.get(reverse("home"))
    with django_assert_num_queries(PORTAL_HOME_QUERIES):
        assert b"short check-in" in portal.get(reverse("home")).content


# session, user, the patient; the sitting, its items, its answers; the messages' session.
QUESTION_PAGE_QUERIES = 7
# The portal home's panels (tests/dashboard/test_page_queries.py measures it at scale),
# one of them the check-in invitation's single query.
# +1: the CM card's look for an active episode; -1: the patient's enrollments read once
# for the day count and the meeting card (patients.selectors.patient_enrollments).
PORTAL_HOME_QUERIES = 16
