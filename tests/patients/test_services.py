from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from core.models import AuditEvent
from patients.models import (
    Consent,
    Enrollment,
    EnrollmentEvent,
    EnrollmentStatus,
    MedicationOrder,
    Patient,
    TrackMembership,
)
from patients.selectors import current_enrollment, prescribed_medications
from patients.services.admission import enrollment_readmit, patient_admit
from patients.services.consents import consent_create, consent_revoke
from patients.services.enrollment import (
    enrollment_change_counselor,
    enrollment_change_level,
    enrollment_change_phase,
    enrollment_change_track,
    enrollment_discharge,
    enrollment_hold,
    enrollment_resume,
)
from patients.services.errors import ConcurrentEditError
from patients.services.medication import (
    medication_order_create,
    medication_order_set_injection_due,
    medication_order_stop,
)
from patients.services.patient import patient_update
from patients.signals import track_membership_changed
from tests.conftest import SCENARIO_NOW

from .conftest import ADMITTED, NOW

# Written for the suite's scenario instant (tests/conftest.py).
pytestmark = pytest.mark.frozen(SCENARIO_NOW)

Kind = EnrollmentEvent.Kind


def kinds(enrollment):
    return list(enrollment.events.values_list("kind", flat=True))


def roster(patient):
    return list(
        TrackMembership.objects.filter(patient=patient)
        .order_by("start_date", "pk")
        .values_list("track__name", "start_date", "end_date")
    )


def admit(site, frontdesk, **extra):
    kwargs = {
        "actor": frontdesk,
        "site": site,
        "legal_first_name": "Ana",
        "legal_last_name": "Lopez",
        "date_of_birth": date(1990, 1, 2),
        "primary_substance": "alcohol",
        "level": "2.1",
        "admission_date": ADMITTED,
        "now": NOW,
    }
    kwargs.update(extra)
    return patient_admit(**kwargs)


# --- intake ------------------------------------------------------------------------


def test_admit_creates_patient_enrollment_history_roster_and_audit(
    site, frontdesk, counselor, track, phases
):
    enrollment = admit(site, frontdesk, track=track, phase=phases[0], counselor=counselor)
    patient = enrollment.patient
    assert patient.mrn == "TR000001"
    assert patient.primary_counselor == counselor
    assert enrollment.status == EnrollmentStatus.ACTIVE
    assert kinds(enrollment) == [Kind.ADMITTED, Kind.TRACK, Kind.PHASE]
    assert roster(patient) == [("IOP Evening", ADMITTED, None)]
    actions = set(AuditEvent.objects.filter(patient_id=patient.pk).values_list("action", flat=True))
    assert {"patient.created", "enrollment.admitted"} <= actions


def test_admit_generates_successive_mrns(site, frontdesk):
    first = admit(site, frontdesk).patient
    second = admit(site, frontdesk, legal_first_name="Bo").patient
    assert (first.mrn, second.mrn) == ("TR000001", "TR000002")


def test_admit_refuses_duplicate_mrn(site, frontdesk):
    admit(site, frontdesk, mrn="X100")
    with pytest.raises(ValidationError) as exc:
        admit(site, frontdesk, mrn="X100", legal_first_name="Bo")
    assert "mrn" in exc.value.message_dict
    assert Patient.objects.count() == 1


def test_duplicate_mrn_is_refused_by_the_database(site, frontdesk):
    patient = admit(site, frontdesk, mrn="X100").patient
    with pytest.raises(IntegrityError), transaction.atomic():
        Patient.objects.create(
            organization=patient.organization,
            site=site,
            mrn="X100",
            legal_first_name="Bo",
            legal_last_name="Dup",
            date_of_birth=date(1990, 1, 1),
            primary_substance="alcohol",
        )


def test_generated_mrn_skips_numbers_taken_by_hand(site, frontdesk):
    admit(site, frontdesk, mrn="TR000001")
    assert admit(site, frontdesk, legal_first_name="Bo").patient.mrn == "TR000002"


def test_admit_refuses_date_of_birth_in_the_future(site, frontdesk):
    with pytest.raises(ValidationError) as exc:
        admit(site, frontdesk, date_of_birth=date(2027, 1, 1))
    assert "future" in exc.value.message_dict["date_of_birth"][0]
    assert not Patient.objects.exists()


def test_admit_refuses_patient_under_twelve(site, frontdesk):
    with pytest.raises(ValidationError) as exc:
        admit(site, frontdesk, date_of_birth=date(2014, 11, 23))  # 11 on Nov 22, 2026
    assert "at least 12" in exc.value.message_dict["date_of_birth"][0]
    assert not Patient.objects.exists()


def test_admit_accepts_patient_on_twelfth_birthday(site, frontdesk):
    enrollment = admit(site, frontdesk, date_of_birth=date(2014, 11, 22))
    assert enrollment.patient.is_adolescent_on(date(2026, 11, 22))


def test_admit_refuses_track_of_another_site(site, other_site, frontdesk):
    from patients.models import Track

    west = Track.objects.create(site=other_site, name="West IOP", kind="day", level="2.1")
    with pytest.raises(ValidationError) as exc:
        admit(site, frontdesk, track=west)
    assert "track" in exc.value.message_dict
    assert not Patient.objects.exists()


def test_admit_refuses_track_of_another_level(site, frontdesk, track):
    with pytest.raises(ValidationError) as exc:
        admit(site, frontdesk, level="2.5", track=track)
    assert "track" in exc.value.message_dict


def test_admit_refuses_expected_end_before_admission(site, frontdesk):
    with pytest.raises(ValidationError) as exc:
        admit(site, frontdesk, expected_end_date=ADMITTED - timedelta(days=1))
    assert "expected_end_date" in exc.value.message_dict


def test_patient_update_changes_fields_and_audits_names_only(make_patient, frontdesk):
    patient = make_patient()
    patient_update(actor=frontdesk, patient=patient, phone="(518) 555-9999", email="a@b.org")
    patient.refresh_from_db()
    assert patient.phone == "+15185559999"
    event = AuditEvent.objects.filter(action="patient.updated").get()
    assert event.detail == {"fields": ["email", "phone"]}


def test_patient_update_refuses_future_date_of_birth(make_patient, frontdesk):
    patient = make_patient()
    with pytest.raises(ValidationError):
        patient_update(actor=frontdesk, patient=patient, date_of_birth=date(2030, 1, 1), now=NOW)
    patient.refresh_from_db()
    assert patient.date_of_birth == date(1990, 5, 17)


# --- enrollment changes --------------------------------------------------------------


def test_change_phase_writes_history_and_bumps_version(enrollment, counselor, phases):
    enrollment_change_phase(
        actor=counselor,
        enrollment=enrollment,
        phase=phases[1],
        effective_date=date(2026, 10, 1),
        reason="Met goals",
        expected_version=enrollment.version,
        now=NOW,
    )
    fresh = Enrollment.objects.get(pk=enrollment.pk)
    assert fresh.phase == phases[1]
    assert fresh.version == enrollment.version + 1
    event = fresh.events.filter(kind=Kind.PHASE).last()
    assert (event.from_value, event.to_value, event.reason, event.actor) == (
        "Phase 1",
        "Phase 2",
        "Met goals",
        counselor,
    )
    assert event.effective_date == date(2026, 10, 1)


def test_stale_version_is_refused_and_nothing_changes(enrollment, counselor, phases):
    stale = enrollment.version
    enrollment_change_phase(
        actor=counselor, enrollment=enrollment, phase=phases[1], effective_date=date(2026, 10, 1)
    )
    with pytest.raises(ConcurrentEditError):
        enrollment_change_phase(
            actor=counselor,
            enrollment=enrollment,
            phase=phases[2],
            effective_date=date(2026, 10, 2),
            expected_version=stale,
        )
    fresh = Enrollment.objects.get(pk=enrollment.pk)
    assert fresh.phase == phases[1]
    assert fresh.events.filter(kind=Kind.PHASE).count() == 2


def test_phase_change_on_discharged_enrollment_is_refused(enrollment, counselor, phases):
    enrollment_discharge(
        actor=counselor,
        enrollment=enrollment,
        discharge_date=date(2026, 11, 1),
        discharge_type="completed",
        aftercare_plan="OP weekly",
    )
    with pytest.raises(ValidationError) as exc:
        enrollment_change_phase(
            actor=counselor,
            enrollment=enrollment,
            phase=phases[1],
            effective_date=date(2026, 11, 2),
        )
    assert "discharged" in exc.value.messages[0]
    assert Enrollment.objects.get(pk=enrollment.pk).phase == phases[0]


def test_phase_change_before_admission_is_refused(enrollment, counselor, phases):
    with pytest.raises(ValidationError) as exc:
        enrollment_change_phase(
            actor=counselor,
            enrollment=enrollment,
            phase=phases[1],
            effective_date=ADMITTED - timedelta(days=1),
        )
    assert "effective_date" in exc.value.message_dict


def test_phase_change_before_the_last_phase_change_is_refused(enrollment, counselor, phases):
    enrollment_change_phase(
        actor=counselor, enrollment=enrollment, phase=phases[1], effective_date=date(2026, 10, 1)
    )
    with pytest.raises(ValidationError) as exc:
        enrollment_change_phase(
            actor=counselor,
            enrollment=enrollment,
            phase=phases[2],
            effective_date=date(2026, 9, 15),
        )
    assert "effective_date" in exc.value.message_dict


def test_phase_of_another_site_is_refused(enrollment, counselor, other_site):
    from patients.models import ProgramPhase

    west = ProgramPhase.objects.create(site=other_site, number=2, name="West 2")
    with pytest.raises(ValidationError) as exc:
        enrollment_change_phase(
            actor=counselor, enrollment=enrollment, phase=west, effective_date=date(2026, 10, 1)
        )
    assert "phase" in exc.value.message_dict


def test_change_track_closes_old_membership_and_opens_new(
    enrollment, counselor, day_track, django_capture_on_commit_callbacks
):
    received = []

    def on_change(sender, enrollment, effective_date, **kwargs):
        received.append(effective_date)

    track_membership_changed.connect(on_change)
    try:
        enrollment_change_track(
            actor=counselor,
            enrollment=enrollment,
            track=day_track,
            effective_date=date(2026, 10, 5),
            reason="New job hours",
        )
    finally:
        track_membership_changed.disconnect(on_change)
    assert roster(enrollment.patient) == [
        ("IOP Evening", ADMITTED, date(2026, 10, 4)),
        ("IOP Day", date(2026, 10, 5), None),
    ]
    assert Enrollment.objects.get(pk=enrollment.pk).track == day_track
    event = enrollment.events.filter(kind=Kind.TRACK).last()
    assert (event.from_value, event.to_value) == ("IOP Evening", "IOP Day")
    assert received == [date(2026, 10, 5), date(2026, 10, 5)]


def test_change_track_before_current_membership_start_is_refused(
    enrollment, counselor, day_track, track
):
    enrollment_change_track(
        actor=counselor, enrollment=enrollment, track=day_track, effective_date=date(2026, 10, 5)
    )
    with pytest.raises(ValidationError) as exc:
        enrollment_change_track(
            actor=counselor, enrollment=enrollment, track=track, effective_date=date(2026, 10, 1)
        )
    assert "effective_date" in exc.value.message_dict


def test_change_track_to_another_level_is_refused(enrollment, counselor, php_track):
    with pytest.raises(ValidationError) as exc:
        enrollment_change_track(
            actor=counselor,
            enrollment=enrollment,
            track=php_track,
            effective_date=date(2026, 10, 5),
        )
    assert "track" in exc.value.message_dict
    assert roster(enrollment.patient) == [("IOP Evening", ADMITTED, None)]


def test_change_level_moves_to_a_track_of_the_new_level(enrollment, counselor, op_track):
    enrollment_change_level(
        actor=counselor,
        enrollment=enrollment,
        level="1.0",
        track=op_track,
        effective_date=date(2026, 11, 2),
        reason="Stepping down",
    )
    fresh = Enrollment.objects.get(pk=enrollment.pk)
    assert (fresh.level, fresh.track) == ("1.0", op_track)
    assert roster(enrollment.patient) == [
        ("IOP Evening", ADMITTED, date(2026, 11, 1)),
        ("OP Weekly", date(2026, 11, 2), None),
    ]
    assert Kind.LEVEL in kinds(fresh)


def test_change_level_without_a_fitting_track_leaves_the_roster(enrollment, counselor):
    enrollment_change_level(
        actor=counselor,
        enrollment=enrollment,
        level="2.5",
        effective_date=date(2026, 11, 2),
        reason="Relapse",
    )
    fresh = Enrollment.objects.get(pk=enrollment.pk)
    assert (fresh.level, fresh.track) == ("2.5", None)
    assert roster(enrollment.patient) == [("IOP Evening", ADMITTED, date(2026, 11, 1))]


def test_change_level_refuses_an_explicit_track_of_another_level(enrollment, counselor, day_track):
    with pytest.raises(ValidationError) as exc:
        enrollment_change_level(
            actor=counselor,
            enrollment=enrollment,
            level="2.5",
            track=day_track,
            effective_date=date(2026, 11, 2),
            reason="Relapse",
        )
    assert "track" in exc.value.message_dict
    assert Enrollment.objects.get(pk=enrollment.pk).level == "2.1"


def test_change_counselor_updates_patient_and_history(enrollment, counselor, other_counselor):
    enrollment_change_counselor(
        actor=counselor,
        enrollment=enrollment,
        counselor=other_counselor,
        effective_date=date(2026, 10, 1),
    )
    enrollment.patient.refresh_from_db()
    assert enrollment.patient.primary_counselor == other_counselor
    assert enrollment.events.filter(kind=Kind.COUNSELOR).exists()


def test_change_counselor_refuses_staff_of_another_site(enrollment, counselor, outside_counselor):
    with pytest.raises(ValidationError) as exc:
        enrollment_change_counselor(
            actor=counselor,
            enrollment=enrollment,
            counselor=outside_counselor,
            effective_date=date(2026, 10, 1),
        )
    assert "counselor" in exc.value.message_dict


def test_hold_closes_membership_and_resume_opens_one(enrollment, counselor):
    enrollment_hold(
        actor=counselor,
        enrollment=enrollment,
        effective_date=date(2026, 10, 10),
        reason="Hospital stay",
    )
    assert Enrollment.objects.get(pk=enrollment.pk).status == EnrollmentStatus.ON_HOLD
    assert roster(enrollment.patient) == [("IOP Evening", ADMITTED, date(2026, 10, 9))]
    enrollment_resume(actor=counselor, enrollment=enrollment, effective_date=date(2026, 10, 20))
    assert Enrollment.objects.get(pk=enrollment.pk).status == EnrollmentStatus.ACTIVE
    assert roster(enrollment.patient) == [
        ("IOP Evening", ADMITTED, date(2026, 10, 9)),
        ("IOP Evening", date(2026, 10, 20), None),
    ]
    assert kinds(enrollment)[-2:] == [Kind.ON_HOLD, Kind.RESUMED]


def test_hold_needs_a_reason(enrollment, counselor):
    with pytest.raises(ValidationError) as exc:
        enrollment_hold(
            actor=counselor, enrollment=enrollment, effective_date=date(2026, 10, 10), reason=" "
        )
    assert "reason" in exc.value.message_dict


def test_resume_before_the_hold_is_refused(enrollment, counselor):
    enrollment_hold(
        actor=counselor, enrollment=enrollment, effective_date=date(2026, 10, 10), reason="Away"
    )
    with pytest.raises(ValidationError) as exc:
        enrollment_resume(actor=counselor, enrollment=enrollment, effective_date=date(2026, 10, 1))
    assert "effective_date" in exc.value.message_dict


def test_resume_of_an_active_enrollment_is_refused(enrollment, counselor):
    with pytest.raises(ValidationError):
        enrollment_resume(actor=counselor, enrollment=enrollment, effective_date=date(2026, 10, 1))


def test_track_change_on_hold_takes_effect_on_resume(enrollment, counselor, day_track):
    enrollment_hold(
        actor=counselor, enrollment=enrollment, effective_date=date(2026, 10, 10), reason="Away"
    )
    enrollment_change_track(
        actor=counselor, enrollment=enrollment, track=day_track, effective_date=date(2026, 10, 15)
    )
    assert roster(enrollment.patient) == [("IOP Evening", ADMITTED, date(2026, 10, 9))]
    enrollment_resume(actor=counselor, enrollment=enrollment, effective_date=date(2026, 10, 20))
    assert roster(enrollment.patient)[-1] == ("IOP Day", date(2026, 10, 20), None)


def test_discharge_records_type_plan_and_closes_membership(enrollment, counselor):
    enrollment_discharge(
        actor=counselor,
        enrollment=enrollment,
        discharge_date=date(2026, 11, 1),
        discharge_type="ama",
        aftercare_plan="Call the clinic",
        note="Left group",
    )
    fresh = Enrollment.objects.get(pk=enrollment.pk)
    assert (fresh.status, fresh.discharge_date, fresh.discharge_type) == (
        EnrollmentStatus.DISCHARGED,
        date(2026, 11, 1),
        "ama",
    )
    assert fresh.aftercare_plan == "Call the clinic"
    assert roster(enrollment.patient) == [("IOP Evening", ADMITTED, date(2026, 11, 1))]
    assert kinds(fresh)[-1] == Kind.DISCHARGED
    assert AuditEvent.objects.filter(action="enrollment.discharged").exists()


def test_discharge_before_admission_is_refused(enrollment, counselor):
    with pytest.raises(ValidationError) as exc:
        enrollment_discharge(
            actor=counselor,
            enrollment=enrollment,
            discharge_date=ADMITTED - timedelta(days=1),
            discharge_type="completed",
            aftercare_plan="OP",
        )
    assert "discharge_date" in exc.value.message_dict
    assert Enrollment.objects.get(pk=enrollment.pk).status == EnrollmentStatus.ACTIVE


def test_discharge_before_admission_is_refused_by_the_database(enrollment):
    with pytest.raises(IntegrityError), transaction.atomic():
        Enrollment.objects.filter(pk=enrollment.pk).update(
            status="discharged",
            discharge_type="completed",
            discharge_date=ADMITTED - timedelta(days=1),
        )


def test_discharge_needs_an_aftercare_plan(enrollment, counselor):
    with pytest.raises(ValidationError) as exc:
        enrollment_discharge(
            actor=counselor,
            enrollment=enrollment,
            discharge_date=date(2026, 11, 1),
            discharge_type="completed",
            aftercare_plan="",
        )
    assert "aftercare_plan" in exc.value.message_dict


def test_discharge_from_hold_needs_no_roster_change(enrollment, counselor):
    enrollment_hold(
        actor=counselor, enrollment=enrollment, effective_date=date(2026, 10, 10), reason="Away"
    )
    enrollment_discharge(
        actor=counselor,
        enrollment=enrollment,
        discharge_date=date(2026, 10, 20),
        discharge_type="administrative",
        aftercare_plan="Referral list",
    )
    assert roster(enrollment.patient) == [("IOP Evening", ADMITTED, date(2026, 10, 9))]


def test_discharge_twice_is_refused(enrollment, counselor):
    args = {
        "actor": counselor,
        "enrollment": enrollment,
        "discharge_date": date(2026, 11, 1),
        "discharge_type": "completed",
        "aftercare_plan": "OP",
    }
    enrollment_discharge(**args)
    with pytest.raises(ValidationError):
        enrollment_discharge(**args)


def test_readmit_opens_new_enrollment_and_keeps_the_old(
    enrollment, counselor, other_counselor, day_track
):
    enrollment_discharge(
        actor=counselor,
        enrollment=enrollment,
        discharge_date=date(2026, 10, 1),
        discharge_type="ama",
        aftercare_plan="Call",
    )
    new = enrollment_readmit(
        actor=counselor,
        patient=enrollment.patient,
        level="2.1",
        track=day_track,
        admission_date=date(2026, 11, 2),
        counselor=other_counselor,
    )
    assert new.pk != enrollment.pk
    assert Enrollment.objects.get(pk=enrollment.pk).status == EnrollmentStatus.DISCHARGED
    assert current_enrollment(enrollment.patient) == new
    assert roster(enrollment.patient) == [
        ("IOP Evening", ADMITTED, date(2026, 10, 1)),
        ("IOP Day", date(2026, 11, 2), None),
    ]
    enrollment.patient.refresh_from_db()
    assert enrollment.patient.primary_counselor == other_counselor
    assert kinds(new) == [Kind.ADMITTED, Kind.TRACK, Kind.COUNSELOR]


def test_readmit_with_an_open_enrollment_is_refused(enrollment, counselor):
    with pytest.raises(ValidationError):
        enrollment_readmit(
            actor=counselor, patient=enrollment.patient, level="2.1", admission_date=NOW.date()
        )
    assert Enrollment.objects.filter(patient=enrollment.patient).count() == 1


def test_readmit_before_the_last_discharge_is_refused(enrollment, counselor):
    enrollment_discharge(
        actor=counselor,
        enrollment=enrollment,
        discharge_date=date(2026, 10, 1),
        discharge_type="completed",
        aftercare_plan="OP",
    )
    with pytest.raises(ValidationError) as exc:
        enrollment_readmit(
            actor=counselor,
            patient=enrollment.patient,
            level="2.1",
            admission_date=date(2026, 9, 20),
        )
    assert "admission_date" in exc.value.message_dict


def test_second_open_enrollment_is_refused_by_the_database(enrollment):
    with pytest.raises(IntegrityError), transaction.atomic():
        Enrollment.objects.create(
            patient=enrollment.patient,
            site=enrollment.site,
            level="2.1",
            admission_date=date(2026, 10, 1),
            status=EnrollmentStatus.ON_HOLD,
        )


def test_discharge_before_a_recorded_change_is_refused(enrollment, counselor, phases):
    enrollment_change_phase(
        actor=counselor, enrollment=enrollment, phase=phases[1], effective_date=date(2026, 10, 15)
    )
    with pytest.raises(ValidationError) as exc:
        enrollment_discharge(
            actor=counselor,
            enrollment=enrollment,
            discharge_date=date(2026, 10, 1),
            discharge_type="completed",
            aftercare_plan="OP",
        )
    assert "discharge_date" in exc.value.message_dict


# --- medications ---------------------------------------------------------------------


def order(patient, nurse, **extra):
    kwargs = {
        "actor": nurse,
        "patient": patient,
        "medication": "buprenorphine_xr",
        "dose": "300 mg",
        "frequency": "monthly",
        "prescriber": "Dr. Adler",
        "start_date": date(2026, 10, 1),
    }
    kwargs.update(extra)
    return medication_order_create(**kwargs)


def test_medication_order_is_prescribed_between_start_and_stop(make_patient, nurse):
    patient = make_patient()
    med = order(patient, nurse, next_injection_due=date(2026, 11, 1))
    assert prescribed_medications(patient.pk, date(2026, 10, 15)) == {"buprenorphine_xr"}
    assert prescribed_medications(patient.pk, date(2026, 9, 30)) == set()
    medication_order_stop(actor=nurse, order=med, stop_date=date(2026, 11, 10), reason="Switched")
    assert prescribed_medications(patient.pk, date(2026, 11, 11)) == set()
    assert MedicationOrder.objects.get(pk=med.pk).stop_reason == "Switched"
    assert AuditEvent.objects.filter(action="medication.stopped", patient_id=patient.pk).exists()


def test_next_injection_before_start_is_refused(make_patient, nurse):
    patient = make_patient()
    with pytest.raises(ValidationError) as exc:
        order(patient, nurse, next_injection_due=date(2026, 9, 30))
    assert "next_injection_due" in exc.value.message_dict
    assert not MedicationOrder.objects.exists()


def test_setting_next_injection_before_start_is_refused(make_patient, nurse):
    med = order(make_patient(), nurse)
    with pytest.raises(ValidationError) as exc:
        medication_order_set_injection_due(
            actor=nurse, order=med, next_injection_due=date(2026, 9, 1)
        )
    assert "next_injection_due" in exc.value.message_dict
    assert MedicationOrder.objects.get(pk=med.pk).next_injection_due is None


def test_set_next_injection_due(make_patient, nurse):
    med = order(make_patient(), nurse)
    medication_order_set_injection_due(actor=nurse, order=med, next_injection_due=date(2026, 12, 1))
    assert MedicationOrder.objects.get(pk=med.pk).next_injection_due == date(2026, 12, 1)


def test_injection_due_on_a_daily_medication_is_refused(make_patient, nurse):
    with pytest.raises(ValidationError):
        order(
            make_patient(),
            nurse,
            medication="methadone",
            frequency="daily",
            next_injection_due=date(2026, 11, 1),
        )


def test_stop_before_start_is_refused(make_patient, nurse):
    med = order(make_patient(), nurse)
    with pytest.raises(ValidationError) as exc:
        medication_order_stop(actor=nurse, order=med, stop_date=date(2026, 9, 1), reason="x")
    assert "stop_date" in exc.value.message_dict


def test_other_medication_needs_a_name(make_patient, nurse):
    with pytest.raises(ValidationError) as exc:
        order(make_patient(), nurse, medication="other")
    assert "other_name" in exc.value.message_dict


# --- consents ------------------------------------------------------------------------


def test_consent_record_and_revoke(make_patient, frontdesk):
    patient = make_patient()
    consent = consent_create(
        actor=frontdesk,
        patient=patient,
        recipient="County Drug Court",
        purpose="Compliance",
        information_disclosed="Attendance",
        signed_on=date(2026, 9, 1),
        expires_on=date(2027, 9, 1),
    )
    assert consent.is_current(date(2026, 10, 1))
    consent_revoke(actor=frontdesk, consent=consent, revoked_on=date(2026, 10, 2))
    consent.refresh_from_db()
    assert not consent.is_current(date(2026, 10, 3))
    assert AuditEvent.objects.filter(action="consent.revoked", patient_id=patient.pk).exists()


def test_consent_expiring_before_signature_is_refused(make_patient, frontdesk):
    with pytest.raises(ValidationError) as exc:
        consent_create(
            actor=frontdesk,
            patient=make_patient(),
            recipient="Employer",
            purpose="Return to work",
            information_disclosed="Attendance",
            signed_on=date(2026, 9, 1),
            expires_on=date(2026, 8, 1),
        )
    assert "expires_on" in exc.value.message_dict
    assert not Consent.objects.exists()


def test_consent_revoked_before_signature_is_refused(make_patient, frontdesk):
    consent = consent_create(
        actor=frontdesk,
        patient=make_patient(),
        recipient="Employer",
        purpose="Return to work",
        information_disclosed="Attendance",
        signed_on=date(2026, 9, 1),
    )
    with pytest.raises(ValidationError) as exc:
        consent_revoke(actor=frontdesk, consent=consent, revoked_on=date(2026, 8, 1))
    assert "revoked_on" in exc.value.message_dict
