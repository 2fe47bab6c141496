"""Dates outside any sane range on the session pages and services: refused with a
message, never an OverflowError (#16)."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from scheduling.models import Session
from scheduling.services.bookings import individual_session_book, session_move

pytestmark = pytest.mark.django_db


@pytest.fixture
def upcoming(track, make_session, today):
    return make_session(track, today + timedelta(days=7))


def _move(client, user, session, day):
    client.force_login(user)
    url = reverse("scheduling:session_move", args=[session.pk])
    return client.post(url, {"day": day, "start": "18:00", "end": "21:00", "room": ""})


def test_moving_a_session_to_9999_12_31_is_refused_on_the_form(client, director, upcoming):
    response = _move(client, director, upcoming, "9999-12-31")
    assert response.status_code == 422
    assert "day" in response.context["form"].errors
    upcoming.refresh_from_db()
    assert not upcoming.is_moved


def test_moving_a_session_more_than_a_year_ahead_is_refused(client, director, upcoming, today):
    response = _move(client, director, upcoming, (today + timedelta(days=400)).isoformat())
    assert response.status_code == 422
    assert "day" in response.context["form"].errors
    upcoming.refresh_from_db()
    assert not upcoming.is_moved


def test_session_move_service_refuses_year_9999(director, upcoming):
    with pytest.raises(ValidationError) as err:
        session_move(
            actor=director,
            session=upcoming,
            starts_at=datetime(9999, 12, 31, 18, tzinfo=UTC),
            ends_at=datetime(9999, 12, 31, 21, tzinfo=UTC),
        )
    assert "starts_at" in err.value.message_dict


def _book(client, user, patient, day):
    client.force_login(user)
    url = reverse("scheduling:book", args=[patient.pk])
    data = {"kind": "individual", "day": day, "start": "10:00", "end": "11:00"}
    return client.post(url, {**data, "facilitator": user.pk, "room": "Office 1"})


def test_booking_a_session_on_9999_12_31_is_refused(client, counselor, patient):
    response = _book(client, counselor, patient, "9999-12-31")
    assert response.status_code == 422
    assert "day" in response.context["form"].errors
    assert not Session.objects.filter(patient=patient).exists()


def test_booking_a_session_more_than_a_year_ahead_is_refused(client, counselor, patient, today):
    response = _book(client, counselor, patient, (today + timedelta(days=400)).isoformat())
    assert response.status_code == 422
    assert not Session.objects.filter(patient=patient).exists()


def test_individual_session_book_service_refuses_a_far_date(counselor, patient):
    with pytest.raises(ValidationError) as err:
        individual_session_book(
            actor=counselor,
            patient=patient,
            kind="individual",
            starts_at=datetime.combine(datetime(9999, 12, 31), time(10), tzinfo=UTC),
            ends_at=datetime.combine(datetime(9999, 12, 31), time(11), tzinfo=UTC),
            facilitator=counselor,
        )
    assert "starts_at" in err.value.message_dict
