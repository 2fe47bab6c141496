"""Individual sessions: no double booking of facilitator, room or patient."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from scheduling.models import Session
from scheduling.services.bookings import individual_session_book, session_cancel, session_move

from .conftest import NOW

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")


def _at(h, m=0, day=date(2026, 11, 20)):
    return datetime(day.year, day.month, day.day, h, m, tzinfo=NY)


def _book(patient, facilitator, start, end, room="Office 1", kind="individual"):
    return individual_session_book(
        actor=facilitator,
        patient=patient,
        kind=kind,
        starts_at=start,
        ends_at=end,
        facilitator=facilitator,
        room=room,
        now=NOW,
    )


def test_individual_session_is_booked_at_the_local_time(patient, counselor):
    session = _book(patient, counselor, _at(10), _at(11))
    assert session.local_date == date(2026, 11, 20)
    assert session.patient == patient and session.capacity == 1


def test_facilitator_double_booking_is_refused(patient, other_patient, counselor):
    _book(patient, counselor, _at(10), _at(11))
    with pytest.raises(ValidationError) as err:
        _book(other_patient, counselor, _at(10, 30), _at(11, 30), room="Office 2")
    assert "already booked" in err.value.message_dict["facilitator"][0]
    assert Session.objects.count() == 1


def test_room_double_booking_is_refused(patient, other_patient, counselor, other_counselor):
    _book(patient, counselor, _at(10), _at(11))
    with pytest.raises(ValidationError) as err:
        _book(other_patient, other_counselor, _at(10, 59), _at(12))
    assert "room" in err.value.message_dict


def test_patient_double_booking_is_refused(patient, counselor, other_counselor):
    _book(patient, counselor, _at(10), _at(11))
    with pytest.raises(ValidationError) as err:
        _book(patient, other_counselor, _at(10), _at(11), room="Office 2", kind="medication")
    assert "patient" in err.value.message_dict


def test_patient_cannot_be_booked_over_their_group(
    evening_series, make_patient, track, other_counselor
):
    p = make_patient(track=track)
    monday = date(2026, 11, 23)
    with pytest.raises(ValidationError) as err:
        _book(p, other_counselor, _at(19, day=monday), _at(20, day=monday), room="Office 2")
    assert "patient" in err.value.message_dict


def test_back_to_back_sessions_are_allowed(patient, other_patient, counselor):
    _book(patient, counselor, _at(10), _at(11))
    _book(other_patient, counselor, _at(11), _at(12))
    assert Session.objects.count() == 2


def test_end_before_start_is_refused(patient, counselor):
    with pytest.raises(ValidationError) as err:
        _book(patient, counselor, _at(11), _at(10))
    assert "ends_at" in err.value.message_dict


def test_cancelled_session_frees_the_slot(patient, other_patient, counselor):
    first = _book(patient, counselor, _at(10), _at(11))
    session_cancel(actor=counselor, session=first, reason="Patient ill", now=NOW)
    _book(other_patient, counselor, _at(10), _at(11))
    assert Session.objects.filter(status="scheduled").count() == 1


def test_moving_a_session_checks_double_booking(patient, other_patient, counselor):
    _book(patient, counselor, _at(10), _at(11))
    second = _book(other_patient, counselor, _at(14), _at(15), room="Office 2")
    with pytest.raises(ValidationError):
        session_move(actor=counselor, session=second, starts_at=_at(10), ends_at=_at(11), now=NOW)
    moved = session_move(
        actor=counselor, session=second, starts_at=_at(16), ends_at=_at(17), now=NOW
    )
    assert moved.is_moved and moved.starts_at == _at(16)
