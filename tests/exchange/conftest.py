"""A patient's record in every kind the FHIR export holds, built quickly: the episodes,
consents and medications through the patients services (history and audit as in use),
sessions, drug tests and plans straight to their tables (``_records``), and check-ins
through the measures services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta

import pytest

from core.clock import local_datetime
from tests.conftest import PASSWORD

from ._records import attend, make_drug_test, make_plan, make_session


@dataclass
class Built:
    patient: object
    sessions: list
    specimens: list


@pytest.fixture
def make_record(site, counselor, nurse, collector, frontdesk, track, today, test_now):
    """make_record(first=..., last=..., sessions=n, tests=n): a patient with a discharged
    and a current episode (with a hold), ``sessions`` sessions attended (plus one missed),
    ``tests`` drug tests (the first confirmed by a lab), two check-ins, two medications,
    two consents and a signed plan (two versions)."""
    from measures.models import Administration
    from patients.services.admission import enrollment_readmit, patient_admit
    from patients.services.consents import consent_create, consent_revoke
    from patients.services.enrollment import (
        enrollment_discharge,
        enrollment_hold,
        enrollment_resume,
    )
    from patients.services.medication import medication_order_create, medication_order_stop
    from patients.services.patient import patient_link_portal_account
    from tests.measures._chart_fixtures import sit, sit_phq9

    def make(*, first: str, last: str, sessions: int = 2, tests: int = 2, shared=None) -> Built:
        start = today - timedelta(days=90)
        # Admitted as of the frozen now (conftest's make_patient records admissions at a
        # fixed 2026 instant, a year before some of the date sweep's instants).
        patient = patient_admit(
            actor=frontdesk,
            site=site,
            legal_first_name=first,
            legal_last_name=last,
            date_of_birth=date(1990, 5, 17),
            primary_substance="opioids",
            level="2.1",
            counselor=counselor,
            admission_date=start,
            now=test_now,
        ).patient
        patient_link_portal_account(
            actor=None, patient=patient, username=f"pt-{last.lower()}", password=PASSWORD
        )
        first_stay = patient.enrollments.get()
        enrollment_discharge(
            actor=counselor,
            enrollment=first_stay,
            discharge_date=start + timedelta(days=20),
            discharge_type="ama",
            aftercare_plan="Outpatient follow-up",
            now=test_now,
        )
        stay = enrollment_readmit(
            actor=frontdesk,
            patient=patient,
            level="2.1",
            admission_date=start + timedelta(days=30),
            now=test_now,
        )
        enrollment_hold(
            actor=counselor,
            enrollment=stay,
            effective_date=start + timedelta(days=40),
            reason="Family emergency",
            now=test_now,
        )
        stay.refresh_from_db()
        enrollment_resume(
            actor=counselor,
            enrollment=stay,
            effective_date=start + timedelta(days=45),
            now=test_now,
        )
        days = [today - timedelta(days=2 + i) for i in range(sessions)]
        made_sessions = shared or [make_session(patient.site, track, d, counselor) for d in days]
        for session in made_sessions:
            attend(session, patient)
        missed = make_session(patient.site, track, today - timedelta(days=30), counselor, "Missed")
        attend(missed, patient, status="unexcused")
        specimens = [
            make_drug_test(patient, today - timedelta(days=3 + i), collector, nurse, lab=i == 0)
            for i in range(tests)
        ]
        at = test_now - timedelta(days=5)
        sit_phq9(patient, 12, at=at, actor=patient.user)
        from measures.services.administrations import instrument_current

        sit(
            patient,
            instrument_current("gad7"),
            dict.fromkeys(range(1, 8), 1),
            at=at + timedelta(hours=1),
            actor=counselor,
            mode=Administration.Mode.WITH_STAFF,
        )
        medication_order_create(
            actor=nurse,
            patient=patient,
            medication="buprenorphine_naloxone",
            dose="16 mg",
            frequency="daily",
            prescriber="Dr. Adler",
            start_date=start + timedelta(days=31),
        )
        stopped = medication_order_create(
            actor=nurse,
            patient=patient,
            medication="naltrexone_xr",
            dose="380 mg",
            frequency="monthly",
            prescriber="Dr. Adler",
            start_date=start,
        )
        medication_order_stop(
            actor=nurse, order=stopped, stop_date=start + timedelta(days=20), reason="Discharged"
        )
        consent_create(
            actor=frontdesk,
            patient=patient,
            recipient=f"County Court for {last}",
            purpose="Compliance reporting",
            information_disclosed="Attendance and drug test results",
            signed_on=start + timedelta(days=31),
            now=test_now,
        )
        revoked = consent_create(
            actor=frontdesk,
            patient=patient,
            recipient="Employer assistance program",
            purpose="Return to work",
            information_disclosed="Attendance",
            signed_on=start + timedelta(days=32),
            now=test_now,
        )
        consent_revoke(actor=frontdesk, consent=revoked, revoked_on=start + timedelta(days=50))
        make_plan(
            patient,
            counselor,
            local_datetime(start + timedelta(days=33), time(11, 0), patient.site.tz),
            responsible=counselor,
        )
        return Built(patient=patient, sessions=made_sessions, specimens=specimens)

    return make
