from datetime import date, timedelta

import pytest
from django.urls import reverse

from core.models import AuditEvent
from patients.models import (
    Consent,
    Enrollment,
    EnrollmentEvent,
    EnrollmentStatus,
    MedicationOrder,
    Patient,
)
from patients.services.enrollment import enrollment_change_phase, enrollment_discharge
from patients.services.medication import medication_order_create
from patients.services.patient import patient_update
from tests.conftest import SCENARIO_NOW

from .conftest import ADMITTED

# Written for the suite's scenario instant (tests/conftest.py).
pytestmark = pytest.mark.frozen(SCENARIO_NOW)

Kind = EnrollmentEvent.Kind


def url(name, *args):
    return reverse(f"patients:{name}", args=args)


def intake_data(site, **extra):
    data = {
        "site": site.pk,
        "legal_first_name": "Ana",
        "legal_last_name": "Lopez",
        "date_of_birth": "1991-04-05",
        "sex": "F",
        "phone": "(518) 555-0142",
        "preferred_contact": "sms",
        "primary_substance": "alcohol",
        "level": "2.1",
        "admission_date": "2026-11-16",
        "referral_source": "self",
    }
    data.update(extra)
    return data


# --- intake ------------------------------------------------------------------------


def test_front_desk_intake_creates_patient_and_enrollment(
    client, frontdesk, site, track, phases, counselor
):
    client.force_login(frontdesk)
    response = client.post(
        url("intake"),
        intake_data(site, track=track.pk, phase=phases[0].pk, counselor=counselor.pk),
    )
    patient = Patient.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("chart", patient.pk)
    enrollment = patient.enrollments.get()
    assert (enrollment.level, enrollment.track, enrollment.phase) == ("2.1", track, phases[0])
    assert patient.primary_counselor == counselor
    assert enrollment.events.filter(kind=Kind.ADMITTED, actor=frontdesk).exists()


def test_intake_form_limits_choices_to_the_site(client, frontdesk, site, track, other_site):
    from patients.models import Track

    Track.objects.create(site=other_site, name="West Evening", kind="evening", level="2.1")
    client.force_login(frontdesk)
    page = client.get(url("intake")).content.decode()
    assert "IOP Evening" in page
    assert "West Evening" not in page


def test_intake_refuses_track_of_another_site(client, frontdesk, site, other_site):
    from patients.models import Track

    west = Track.objects.create(site=other_site, name="West Evening", kind="evening", level="2.1")
    client.force_login(frontdesk)
    response = client.post(url("intake"), intake_data(site, track=west.pk))
    assert response.status_code == 200
    assert "track" in response.context["form"].errors
    assert not Patient.objects.exists()


def test_intake_refuses_a_site_the_user_does_not_work_at(client, frontdesk, other_site):
    client.force_login(frontdesk)
    response = client.post(url("intake"), intake_data(other_site))
    assert "site" in response.context["form"].errors
    assert not Patient.objects.exists()


@pytest.mark.parametrize(
    ("born", "message"), [("2027-01-01", "future"), ("2016-01-01", "at least 12")]
)
def test_intake_refuses_bad_date_of_birth(client, frontdesk, site, born, message):
    client.force_login(frontdesk)
    response = client.post(url("intake"), intake_data(site, date_of_birth=born))
    assert response.status_code == 200
    assert message in response.context["form"].errors["date_of_birth"][0]
    assert not Patient.objects.exists()


def test_intake_refuses_duplicate_mrn(client, frontdesk, site, make_patient):
    make_patient(mrn="X100")
    client.force_login(frontdesk)
    response = client.post(url("intake"), intake_data(site, mrn="x100"))
    assert response.status_code == 200
    assert "already belongs" in response.context["form"].errors["mrn"][0]
    assert Patient.objects.count() == 1


def test_intake_of_same_name_and_birth_date_asks_before_registering_twice(
    client, frontdesk, site, make_patient
):
    existing = make_patient(first="Ana", last="Lopez", born=date(1991, 4, 5))
    client.force_login(frontdesk)
    response = client.post(url("intake"), intake_data(site))
    assert response.status_code == 200
    assert existing.mrn in response.context["form"].errors["not_a_duplicate"][0]
    assert Patient.objects.count() == 1
    response = client.post(url("intake"), intake_data(site, not_a_duplicate="on"))
    assert response.status_code == 302
    assert Patient.objects.count() == 2


def test_duplicate_warning_hides_the_mrn_from_staff_who_cannot_see_the_patient(
    client, outside_counselor, other_site, make_patient
):
    existing = make_patient(first="Ana", last="Lopez", born=date(1991, 4, 5))
    client.force_login(outside_counselor)
    response = client.post(url("intake"), intake_data(other_site))
    error = response.context["form"].errors["not_a_duplicate"][0]
    assert "already registered" in error
    assert existing.mrn not in error


def test_medical_staff_cannot_do_intake(client, nurse, site):
    client.force_login(nurse)
    assert client.post(url("intake"), intake_data(site)).status_code == 403
    assert not Patient.objects.exists()


# --- demographics ------------------------------------------------------------------------


def demographics_data(patient, **extra):
    data = {
        "legal_first_name": patient.legal_first_name,
        "legal_last_name": patient.legal_last_name,
        "date_of_birth": patient.date_of_birth.isoformat(),
        "sex": patient.sex,
        "preferred_contact": patient.preferred_contact,
        "primary_substance": patient.primary_substance,
        "loaded_at": patient.updated_at.isoformat(),
    }
    data.update(extra)
    return data


def test_front_desk_edits_demographics(client, frontdesk, enrollment):
    patient = enrollment.patient
    client.force_login(frontdesk)
    response = client.post(
        url("demographics", patient.pk), demographics_data(patient, phone="(518) 555-0101")
    )
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.phone == "+15185550101"


def test_demographics_saved_meanwhile_by_a_colleague_are_not_undone(
    client, frontdesk, counselor, enrollment
):
    patient = enrollment.patient
    stale = demographics_data(patient, email="new@example.org", preferred_contact="email")
    patient_update(actor=counselor, patient=patient, phone="(518) 555-0202")
    client.force_login(frontdesk)
    response = client.post(url("demographics", patient.pk), stale)
    assert response.status_code == 200
    assert "Someone else changed" in str(response.context["form"].non_field_errors())
    patient.refresh_from_db()
    assert (patient.phone, patient.email) == ("+15185550202", "")


def test_demographics_refuses_future_date_of_birth(client, frontdesk, enrollment):
    patient = enrollment.patient
    client.force_login(frontdesk)
    response = client.post(
        url("demographics", patient.pk), demographics_data(patient, date_of_birth="2030-01-01")
    )
    assert "date_of_birth" in response.context["form"].errors
    patient.refresh_from_db()
    assert patient.date_of_birth == date(1990, 5, 17)


# --- enrollment changes ----------------------------------------------------------------


def test_counselor_changes_phase(client, counselor, enrollment, phases):
    client.force_login(counselor)
    response = client.post(
        url("change_phase", enrollment.patient_id),
        {
            "version": enrollment.version,
            "phase": phases[1].pk,
            "effective_date": "2026-10-01",
            "reason": "Goals met",
        },
    )
    assert response.status_code == 302
    fresh = Enrollment.objects.get(pk=enrollment.pk)
    assert fresh.phase == phases[1]
    assert fresh.events.filter(kind=Kind.PHASE, to_value="Phase 2", actor=counselor).exists()


def test_stale_version_shows_a_form_error_and_changes_nothing(
    client, counselor, director, enrollment, phases
):
    stale = enrollment.version
    enrollment_change_phase(
        actor=director, enrollment=enrollment, phase=phases[2], effective_date=date(2026, 10, 1)
    )
    client.force_login(counselor)
    response = client.post(
        url("change_phase", enrollment.patient_id),
        {"version": stale, "phase": phases[1].pk, "effective_date": "2026-10-02"},
    )
    assert response.status_code == 200
    assert "Someone else changed" in str(response.context["form"].non_field_errors())
    assert Enrollment.objects.get(pk=enrollment.pk).phase == phases[2]


def test_front_desk_cannot_change_enrollment(client, frontdesk, enrollment, phases):
    client.force_login(frontdesk)
    response = client.post(
        url("change_phase", enrollment.patient_id),
        {"version": enrollment.version, "phase": phases[1].pk, "effective_date": "2026-10-01"},
    )
    assert response.status_code == 403
    assert Enrollment.objects.get(pk=enrollment.pk).phase == phases[0]


def test_counselor_changes_track(client, counselor, enrollment, day_track):
    client.force_login(counselor)
    client.post(
        url("change_track", enrollment.patient_id),
        {"version": enrollment.version, "track": day_track.pk, "effective_date": "2026-10-05"},
    )
    assert Enrollment.objects.get(pk=enrollment.pk).track == day_track


def test_counselor_changes_level(client, counselor, enrollment, op_track):
    client.force_login(counselor)
    client.post(
        url("change_level", enrollment.patient_id),
        {
            "version": enrollment.version,
            "level": "1.0",
            "track": op_track.pk,
            "effective_date": "2026-11-02",
            "reason": "Step down",
        },
    )
    fresh = Enrollment.objects.get(pk=enrollment.pk)
    assert (fresh.level, fresh.track) == ("1.0", op_track)


def test_counselor_changes_counselor(client, counselor, other_counselor, enrollment):
    client.force_login(counselor)
    client.post(
        url("change_counselor", enrollment.patient_id),
        {
            "version": enrollment.version,
            "counselor": other_counselor.pk,
            "effective_date": "2026-11-02",
        },
    )
    assert Patient.objects.get(pk=enrollment.patient_id).primary_counselor == other_counselor


def test_hold_and_resume(client, counselor, enrollment):
    client.force_login(counselor)
    client.post(
        url("hold", enrollment.patient_id),
        {"version": enrollment.version, "effective_date": "2026-10-10", "reason": "Hospital"},
    )
    held = Enrollment.objects.get(pk=enrollment.pk)
    assert held.status == EnrollmentStatus.ON_HOLD
    client.post(
        url("resume", enrollment.patient_id),
        {"version": held.version, "effective_date": "2026-10-20"},
    )
    assert Enrollment.objects.get(pk=enrollment.pk).status == EnrollmentStatus.ACTIVE


def test_counselor_discharges(client, counselor, enrollment):
    client.force_login(counselor)
    response = client.post(
        url("discharge", enrollment.patient_id),
        {
            "version": enrollment.version,
            "discharge_date": "2026-11-01",
            "discharge_type": "completed",
            "aftercare_plan": "Weekly OP",
        },
    )
    assert response.status_code == 302
    fresh = Enrollment.objects.get(pk=enrollment.pk)
    assert (fresh.status, fresh.discharge_type) == (EnrollmentStatus.DISCHARGED, "completed")


def test_discharge_before_admission_shows_a_form_error(client, counselor, enrollment):
    client.force_login(counselor)
    response = client.post(
        url("discharge", enrollment.patient_id),
        {
            "version": enrollment.version,
            "discharge_date": (ADMITTED - timedelta(days=1)).isoformat(),
            "discharge_type": "completed",
            "aftercare_plan": "Weekly OP",
        },
    )
    assert response.status_code == 200
    assert "before admission" in response.context["form"].errors["discharge_date"][0]
    assert Enrollment.objects.get(pk=enrollment.pk).status == EnrollmentStatus.ACTIVE


def test_phase_change_without_open_enrollment_changes_nothing(
    client, counselor, enrollment, phases
):
    enrollment_discharge(
        actor=counselor,
        enrollment=enrollment,
        discharge_date=date(2026, 11, 1),
        discharge_type="completed",
        aftercare_plan="OP",
    )
    client.force_login(counselor)
    response = client.post(
        url("change_phase", enrollment.patient_id),
        {"version": enrollment.version + 1, "phase": phases[1].pk, "effective_date": "2026-11-2"},
    )
    assert response.status_code == 302
    assert Enrollment.objects.get(pk=enrollment.pk).phase == phases[0]


def test_readmit_after_discharge(client, counselor, enrollment, day_track):
    enrollment_discharge(
        actor=counselor,
        enrollment=enrollment,
        discharge_date=date(2026, 10, 1),
        discharge_type="ama",
        aftercare_plan="Call",
    )
    client.force_login(counselor)
    response = client.post(
        url("readmit", enrollment.patient_id),
        {
            "level": "2.1",
            "track": day_track.pk,
            "admission_date": "2026-11-02",
            "referral_source": "self",
        },
    )
    assert response.status_code == 302
    assert enrollment.patient.enrollments.count() == 2
    assert enrollment.patient.enrollments.filter(status="active", track=day_track).exists()


def test_readmit_with_open_enrollment_shows_a_form_error(client, counselor, enrollment):
    client.force_login(counselor)
    response = client.post(
        url("readmit", enrollment.patient_id),
        {"level": "2.1", "admission_date": "2026-11-02", "referral_source": "self"},
    )
    assert response.status_code == 200
    assert "already has an open enrollment" in str(response.context["form"].non_field_errors())
    assert enrollment.patient.enrollments.count() == 1


# --- medications and consents ------------------------------------------------------------


def medication_data(**extra):
    data = {
        "medication": "naltrexone_xr",
        "dose": "380 mg",
        "frequency": "monthly",
        "prescriber": "Dr. Adler",
        "start_date": "2026-10-01",
        "next_injection_due": "2026-10-29",
    }
    data.update(extra)
    return data


def test_nurse_adds_medication_order(client, nurse, enrollment):
    client.force_login(nurse)
    response = client.post(url("medication_add", enrollment.patient_id), medication_data())
    assert response.status_code == 302
    order = MedicationOrder.objects.get(patient=enrollment.patient)
    assert (order.medication, order.next_injection_due) == ("naltrexone_xr", date(2026, 10, 29))
    assert order.created_by == nurse


def test_next_injection_before_start_shows_a_form_error(client, nurse, enrollment):
    client.force_login(nurse)
    response = client.post(
        url("medication_add", enrollment.patient_id),
        medication_data(next_injection_due="2026-09-01"),
    )
    assert response.status_code == 200
    assert "next_injection_due" in response.context["form"].errors
    assert not MedicationOrder.objects.exists()


def test_counselor_cannot_order_medication(client, counselor, enrollment):
    client.force_login(counselor)
    response = client.post(url("medication_add", enrollment.patient_id), medication_data())
    assert response.status_code == 403
    assert not MedicationOrder.objects.exists()


def test_nurse_stops_order_and_sets_injection(client, nurse, enrollment):
    order = medication_order_create(
        actor=nurse,
        patient=enrollment.patient,
        medication="buprenorphine_xr",
        dose="300 mg",
        frequency="monthly",
        prescriber="Dr. Adler",
        start_date=date(2026, 10, 1),
    )
    client.force_login(nurse)
    client.post(
        url("medication_injection_due", enrollment.patient_id, order.pk),
        {"next_injection_due": "2026-11-29"},
    )
    assert MedicationOrder.objects.get(pk=order.pk).next_injection_due == date(2026, 11, 29)
    client.post(
        url("medication_stop", enrollment.patient_id, order.pk),
        {"stop_date": "2026-11-30", "reason": "Completed"},
    )
    assert MedicationOrder.objects.get(pk=order.pk).stop_date == date(2026, 11, 30)


def test_order_of_another_patient_is_404(client, nurse, enrollment, other_patient):
    order = medication_order_create(
        actor=nurse,
        patient=other_patient,
        medication="methadone",
        dose="80 mg",
        frequency="daily",
        prescriber="Dr. Adler",
        start_date=date(2026, 10, 1),
    )
    client.force_login(nurse)
    response = client.post(
        url("medication_stop", enrollment.patient_id, order.pk),
        {"stop_date": "2026-11-30", "reason": "x"},
    )
    assert response.status_code == 404
    assert MedicationOrder.objects.get(pk=order.pk).stop_date is None


def test_front_desk_records_and_revokes_consent(client, frontdesk, enrollment):
    client.force_login(frontdesk)
    client.post(
        url("consent_add", enrollment.patient_id),
        {
            "recipient": "County Drug Court",
            "purpose": "Compliance",
            "information_disclosed": "Attendance",
            "signed_on": "2026-09-01",
            "expires_on": "2027-09-01",
        },
    )
    consent = Consent.objects.get(patient=enrollment.patient)
    assert consent.created_by == frontdesk
    client.post(
        url("consent_revoke", enrollment.patient_id, consent.pk), {"revoked_on": "2026-10-01"}
    )
    assert Consent.objects.get(pk=consent.pk).revoked_on == date(2026, 10, 1)


def test_nurse_cannot_record_consent(client, nurse, enrollment):
    client.force_login(nurse)
    response = client.post(
        url("consent_add", enrollment.patient_id),
        {"recipient": "X", "purpose": "Y", "information_disclosed": "Z", "signed_on": "2026-09-01"},
    )
    assert response.status_code == 403
    assert not Consent.objects.exists()


# --- access ----------------------------------------------------------------------------


def test_owner_counselor_sees_chart_and_read_is_audited(client, counselor, patient):
    client.force_login(counselor)
    response = client.get(url("chart", patient.pk))
    assert response.status_code == 200
    assert AuditEvent.objects.filter(
        action="patient.chart_view", patient_id=patient.pk, actor=counselor
    ).exists()


def test_colleague_outside_the_care_team_gets_404(client, other_counselor, patient):
    client.force_login(other_counselor)
    assert client.get(url("chart", patient.pk)).status_code == 404
    assert AuditEvent.objects.filter(patient_id=patient.pk, outcome="denied").exists()


def test_colleague_cannot_change_a_patient_they_cannot_see(
    client, other_counselor, enrollment, phases
):
    client.force_login(other_counselor)
    response = client.post(
        url("change_phase", enrollment.patient_id),
        {"version": enrollment.version, "phase": phases[1].pk, "effective_date": "2026-10-01"},
    )
    assert response.status_code == 404
    assert Enrollment.objects.get(pk=enrollment.pk).phase == phases[0]


def test_staff_of_another_site_gets_404(client, outside_counselor, patient):
    client.force_login(outside_counselor)
    assert client.get(url("chart", patient.pk)).status_code == 404
    assert client.get(url("demographics", patient.pk)).status_code == 404


def test_patient_cannot_open_a_chart(client, patient, other_patient):
    client.force_login(patient.user)
    assert client.get(url("chart", other_patient.pk)).status_code in (403, 404)
    assert client.get(url("chart", patient.pk)).status_code in (403, 404)
    assert client.get(url("caseload")).status_code in (403, 404)


def test_chart_shows_history_medications_and_consents(client, counselor, nurse, enrollment):
    medication_order_create(
        actor=nurse,
        patient=enrollment.patient,
        medication="methadone",
        dose="80 mg",
        frequency="daily",
        prescriber="Dr. Adler",
        start_date=date(2026, 10, 1),
    )
    client.force_login(counselor)
    page = client.get(url("chart", enrollment.patient_id)).content.decode()
    assert 'data-testid="enrollment-history"' in page
    assert "Admitted" in page
    assert "Methadone" in page
    assert "No consents on file." in page


# --- caseload ------------------------------------------------------------------------------


def test_caseload_lists_only_visible_patients(
    client, counselor, other_counselor, make_patient, outside_counselor, other_site
):
    make_patient(first="Mine", last="Alpha")
    make_patient(first="Theirs", last="Beta", counselor_user=other_counselor)
    client.force_login(counselor)
    page = client.get(url("caseload")).content.decode()
    assert "Alpha" in page
    assert "Beta" not in page


def test_caseload_filter_offers_the_tracks_and_counselors_of_visible_patients(
    client, counselor, other_counselor, make_patient, track, day_track
):
    from patients.models import Track

    make_patient(last="Mine", track=track)
    elsewhere = Track.objects.create(site=track.site, name="Other group", kind="day", level="2.1")
    make_patient(last="Theirs", track=elsewhere, counselor_user=other_counselor)
    client.force_login(counselor)
    form = client.get(url("caseload")).context["form"]
    assert list(form.fields["track"].queryset) == [track]
    assert list(form.fields["counselor"].queryset) == [counselor]


def test_caseload_search_by_name_and_mrn(client, director, make_patient):
    alpha = make_patient(first="Jo", last="Alpha")
    make_patient(first="Max", last="Beta")
    client.force_login(director)
    rows = client.get(url("caseload"), {"q": "alph"}).context["page"].object_list
    assert [p.pk for p in rows] == [alpha.pk]
    rows = client.get(url("caseload"), {"q": alpha.mrn.lower()}).context["page"].object_list
    assert [p.pk for p in rows] == [alpha.pk]


def test_caseload_filters_by_phase_track_level_and_status(
    client, director, counselor, make_patient, track, day_track, phases
):
    make_patient(last="One", track=track, phase=phases[0])
    make_patient(last="Two", track=day_track, phase=phases[1])
    gone = make_patient(last="Gone", level="2.5")
    enrollment_discharge(
        actor=counselor,
        enrollment=gone.enrollments.get(),
        discharge_date=date(2026, 10, 1),
        discharge_type="completed",
        aftercare_plan="OP",
    )
    client.force_login(director)

    def names(**params):
        rows = client.get(url("caseload"), params).context["page"].object_list
        return [p.legal_last_name for p in rows]

    assert names() == ["One", "Two"]
    assert names(phase=phases[1].pk) == ["Two"]
    assert names(track=track.pk) == ["One"]
    assert names(status="discharged") == ["Gone"]
    assert names(status="all", level="2.5") == ["Gone"]
    assert names(status="all") == ["Gone", "One", "Two"]


def test_caseload_drops_an_unknown_filter_value_and_keeps_the_others(
    client, frontdesk, make_patient, other_site
):
    from patients.models import Track

    west = Track.objects.create(site=other_site, name="West IOP", kind="day", level="2.1")
    alpha = make_patient(last="Alpha")
    make_patient(last="Beta")
    client.force_login(frontdesk)
    response = client.get(url("caseload"), {"track": west.pk, "q": "alpha"})
    assert response.status_code == 200
    assert "track" in response.context["form"].errors
    assert [p.pk for p in response.context["page"].object_list] == [alpha.pk]


def test_caseload_is_paginated(client, director, make_patient):
    for n in range(30):
        make_patient(last=f"P{n:02d}")
    client.force_login(director)
    first = client.get(url("caseload"))
    assert len(first.context["page"].object_list) == 25
    second = client.get(url("caseload"), {"page": 2})
    assert len(second.context["page"].object_list) == 5


def test_collector_has_no_caseload(client, collector):
    client.force_login(collector)
    assert client.get(url("caseload")).status_code == 403


# --- staff home census --------------------------------------------------------------------


def test_staff_home_census_counts_open_enrollments(client, frontdesk, make_patient, track):
    make_patient(track=track)
    make_patient(track=track)
    make_patient(level="2.5")
    client.force_login(frontdesk)
    page = client.get("/").content.decode()
    assert 'data-testid="census-panel"' in page
    assert 'data-testid="census-active">3<' in page
    assert "Evening track: 2" in page and "No track: 1" in page


def test_director_intake_at_a_chosen_site_limits_choices_to_it(client, director, other_site, track):
    from patients.models import Track

    west = Track.objects.create(site=other_site, name="West Evening", kind="evening", level="2.1")
    client.force_login(director)
    page = client.get(url("intake"), {"site": other_site.pk}).content.decode()
    assert "West Evening" in page
    assert "IOP Evening" not in page
    response = client.post(url("intake"), intake_data(other_site, track=west.pk))
    assert response.status_code == 302
    assert Patient.objects.get().enrollments.get().track == west


# --- admin -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "model",
    [
        "patient",
        "enrollment",
        "enrollmentevent",
        "trackmembership",
        "medicationorder",
        "consent",
        "programphase",
    ],
)
def test_superuser_browses_admin_and_nothing_can_be_deleted(client, admin_user, enrollment, model):
    from django.contrib import admin

    from patients import models

    client.force_login(admin_user)
    assert client.get(reverse(f"admin:patients_{model}_changelist")).status_code == 200
    model_admin = admin.site._registry[getattr(models, admin_name(model))]
    assert not model_admin.has_delete_permission(None)


def admin_name(model: str) -> str:
    return {
        "patient": "Patient",
        "enrollment": "Enrollment",
        "enrollmentevent": "EnrollmentEvent",
        "trackmembership": "TrackMembership",
        "medicationorder": "MedicationOrder",
        "consent": "Consent",
        "programphase": "ProgramPhase",
    }[model]


def test_enrollment_history_is_read_only_in_admin(client, admin_user, enrollment):
    from django.contrib import admin

    event = enrollment.events.first()
    model_admin = admin.site._registry[EnrollmentEvent]
    assert not model_admin.has_change_permission(None, event)
    assert not model_admin.has_add_permission(None)
    client.force_login(admin_user)
    page = client.get(reverse("admin:patients_enrollment_change", args=[enrollment.pk]))
    assert page.status_code == 200


def test_chart_renders_the_panels_other_apps_contribute(client, counselor, patient, monkeypatch):
    from core.panels import Panel

    calls = []

    def fake_collect(hook, request, **kwargs):
        calls.append((hook, kwargs["patient"].pk))
        return [Panel(template="patients/_census_panel.html", context={"sites": []})]

    monkeypatch.setattr("patients.views.collect", fake_collect)
    client.force_login(counselor)
    page = client.get(url("chart", patient.pk)).content.decode()
    assert calls == [("chart", patient.pk)]
    assert 'data-testid="census-panel"' in page
