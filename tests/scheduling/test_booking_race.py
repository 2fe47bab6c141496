"""Two bookings racing for the same facilitator: the row lock lets exactly one through."""

import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from scheduling.models import Session
from scheduling.services.bookings import individual_session_book

pytestmark = pytest.mark.django_db(transaction=True)

NY = ZoneInfo("America/New_York")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs row locks")
def test_concurrent_double_booking_lets_one_through(patient, other_patient, counselor):
    barrier = threading.Barrier(2)
    outcomes = []

    def book(p, room):
        from django.db import connections

        try:
            barrier.wait(timeout=5)
            individual_session_book(
                actor=counselor,
                patient=p,
                kind="individual",
                starts_at=datetime(2026, 12, 1, 10, tzinfo=NY),
                ends_at=datetime(2026, 12, 1, 11, tzinfo=NY),
                facilitator=counselor,
                room=room,
                now=datetime(2026, 11, 22, tzinfo=NY),
            )
            outcomes.append("booked")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=book, args=(patient, "Office 1")),
        threading.Thread(target=book, args=(other_patient, "Office 2")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    assert sorted(outcomes) == ["booked", "refused"]
    assert Session.objects.count() == 1
