"""Two people saving the same enrollment at once: one change wins, the other is refused
(never silently lost)."""

import threading
from datetime import date

import pytest
from django.db import connection

from patients.models import Enrollment, EnrollmentEvent
from patients.services.enrollment import enrollment_change_phase
from patients.services.errors import ConcurrentEditError
from tests.conftest import SCENARIO_NOW

# Written for the suite's scenario instant (tests/conftest.py).
pytestmark = pytest.mark.frozen(SCENARIO_NOW)


@pytest.mark.django_db(transaction=True)
def test_simultaneous_edits_with_the_same_version_let_exactly_one_through(
    make_patient, counselor, director, track, phases
):
    enrollment = make_patient(track=track, phase=phases[0]).enrollments.get()
    version = enrollment.version
    barrier = threading.Barrier(2)
    outcomes = []

    def edit(actor, phase):
        try:
            barrier.wait(timeout=5)
            enrollment_change_phase(
                actor=actor,
                enrollment=enrollment,
                phase=phase,
                effective_date=date(2026, 10, 1),
                expected_version=version,
            )
            outcomes.append("saved")
        except ConcurrentEditError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=edit, args=(counselor, phases[1])),
        threading.Thread(target=edit, args=(director, phases[2])),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    assert sorted(outcomes) == ["refused", "saved"]
    fresh = Enrollment.objects.get(pk=enrollment.pk)
    assert fresh.version == version + 1
    changes = EnrollmentEvent.objects.filter(
        enrollment=enrollment, kind=EnrollmentEvent.Kind.PHASE
    ).exclude(from_value="")
    assert [e.to_value for e in changes] == [fresh.phase.name]
