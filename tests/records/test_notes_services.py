"""Progress-note services: starting a draft, the due clock, editing and signing, and
that signed content never changes (service, SQL trigger)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from core.clock import local_datetime
from core.models import AuditEvent
from records.models import NoteObjective, ProgressNote, RecordSettings, Signature
from records.services.notes import note_sign, note_update
from records.signing import verify_signature
from scheduling.models import Holiday, HolidayStatus
from tests.conftest import LA, NY
from tests.records._notes_fixtures import *  # noqa: F403
from tests.records._notes_fixtures import service_day, write_all


def _thursday_before(today: date, weeks_back: int = 2) -> date:
    back = (today.weekday() - 3) % 7 + 7 * weeks_back
    return today - timedelta(days=back)


def _only_holiday(site, day: date, span: int = 20) -> None:
    """Make ``day`` the only closed holiday near it (the site's seeded public holidays
    would otherwise move the count, whichever week the suite is frozen in)."""
    Holiday.objects.filter(
        site=site, date__gt=day - timedelta(days=span), date__lt=day + timedelta(days=span)
    ).update(status=HolidayStatus.OPEN)
    Holiday.objects.update_or_create(
        site=site, date=day, defaults={"name": "Staff day", "status": HolidayStatus.CLOSED}
    )


# --- the due clock -------------------------------------------------------------------


def test_note_due_three_business_days_after_skipping_weekend_and_friday_holiday(
    make_note, patient, counselor, site, today
):
    thursday = _thursday_before(today)
    _only_holiday(site, thursday + timedelta(days=1))
    note = make_note(patient, counselor, day=thursday)
    # Friday closed, Saturday and Sunday not open: Monday, Tuesday, Wednesday.
    assert note.due_on == thursday + timedelta(days=6)
    assert note.due_on.weekday() == 2


def test_note_due_without_the_holiday_is_the_following_tuesday(
    make_note, patient, counselor, site, today
):
    thursday = _thursday_before(today)
    Holiday.objects.filter(
        site=site, date__gt=thursday, date__lt=thursday + timedelta(days=20)
    ).update(status=HolidayStatus.OPEN)
    note = make_note(patient, counselor, day=thursday)
    assert note.due_on == thursday + timedelta(days=5)


def test_note_due_follows_the_sites_business_days_setting(
    make_note, patient, counselor, site, today
):
    thursday = _thursday_before(today)
    Holiday.objects.filter(
        site=site, date__gt=thursday, date__lt=thursday + timedelta(days=20)
    ).update(status=HolidayStatus.OPEN)
    RecordSettings.objects.create(site=site, note_due_business_days=1)
    assert make_note(patient, counselor, day=thursday).due_on == thursday + timedelta(days=1)


def test_crisis_note_is_due_the_next_day(make_note, patient, counselor, site, today):
    thursday = _thursday_before(today)
    _only_holiday(site, thursday + timedelta(days=1))
    note = make_note(patient, counselor, day=thursday, service_type="crisis")
    assert note.due_on == thursday + timedelta(days=1)


# --- starting a note -----------------------------------------------------------------


def test_start_makes_a_draft_in_the_open_episode_with_an_audit_row(make_note, patient, counselor):
    note = make_note(patient, counselor)
    assert note.status == "draft" and note.signed_at is None
    assert note.enrollment == patient.enrollments.get()
    assert note.author_credentials == "CADC-T"
    assert AuditEvent.objects.filter(action="records.note.started", patient_id=patient.pk).exists()


def test_format_not_allowed_at_the_site_is_refused_with_a_clear_message(
    make_note, patient, counselor, site
):
    RecordSettings.objects.create(site=site, note_formats="DAP,SOAP")
    with pytest.raises(ValidationError) as caught:
        make_note(patient, counselor, format="BIRP")
    assert "does not use the BIRP format: choose DAP, SOAP" in str(caught.value)
    assert not ProgressNote.objects.exists()


def test_service_date_in_the_future_is_refused(make_note, patient, counselor, today):
    with pytest.raises(ValidationError) as caught:
        make_note(patient, counselor, day=today + timedelta(days=1))
    assert "service_date" in caught.value.error_dict


def test_service_date_before_the_admission_is_refused(make_note, patient, counselor):
    admitted = patient.enrollments.get().admission_date
    with pytest.raises(ValidationError) as caught:
        make_note(patient, counselor, day=admitted - timedelta(days=1))
    assert "not in care" in str(caught.value)


def test_a_service_that_ends_before_it_starts_is_refused(make_note, patient, counselor, today):
    day = service_day(today)
    with pytest.raises(ValidationError) as caught:
        make_note(
            patient,
            counselor,
            starts_at=local_datetime(day, time(11), NY),
            ends_at=local_datetime(day, time(10), NY),
        )
    assert "ends_at" in caught.value.error_dict


def test_front_desk_cannot_start_a_note(make_note, patient, frontdesk):
    with pytest.raises(ValidationError):
        make_note(patient, frontdesk)


def test_outside_counselor_cannot_start_a_note(make_note, patient, outside_counselor):
    with pytest.raises(ValidationError):
        make_note(patient, outside_counselor)


# --- drafts: the author's alone --------------------------------------------------------


def test_author_updates_sections_and_objectives(make_note, make_plan, patient, counselor):
    _, objective = make_plan(patient, counselor)
    note = write_all(make_note(patient, counselor), counselor, objective_ids=[objective.pk])
    note.refresh_from_db()
    assert note.data == "data text" and note.response == "response text"
    assert list(NoteObjective.objects.filter(note=note).values_list("objective_id", flat=True)) == [
        objective.pk
    ]


def test_a_section_outside_the_format_is_refused(make_note, patient, counselor):
    note = make_note(patient, counselor)  # DAP
    with pytest.raises(ValidationError) as caught:
        note_update(actor=counselor, note=note, sections={"behavior": "x"})
    assert "no Behavior section" in str(caught.value)


def test_objectives_of_another_patients_plan_are_refused(
    make_note, make_plan, patient, other_patient, counselor
):
    _, theirs = make_plan(other_patient, counselor)
    note = make_note(patient, counselor)
    with pytest.raises(ValidationError) as caught:
        note_update(actor=counselor, note=note, sections={}, objective_ids=[theirs.pk])
    assert "plan in force" in str(caught.value)
    assert not NoteObjective.objects.filter(note=note).exists()


def test_nobody_but_the_author_edits_a_draft(make_note, patient, counselor, director, nurse):
    note = make_note(patient, counselor)
    for other in (director, nurse):
        with pytest.raises(ValidationError) as caught:
            note_update(actor=other, note=note, sections={"data": "changed"})
        assert "Only the author" in str(caught.value)
    note.refresh_from_db()
    assert note.data == ""


def test_nobody_but_the_author_signs_a_draft(make_note, patient, counselor, director):
    note = write_all(make_note(patient, counselor), counselor)
    with pytest.raises(ValidationError):
        note_sign(actor=director, note=note)
    note.refresh_from_db()
    assert note.status == "draft" and not Signature.objects.exists()


def test_an_empty_note_is_not_signed(make_note, patient, counselor):
    note = make_note(patient, counselor)
    note_update(actor=counselor, note=note, sections={"data": "Came on time."})
    with pytest.raises(ValidationError) as caught:
        note_sign(actor=counselor, note=note)
    assert set(caught.value.error_dict) == {"assessment", "plan", "response"}
    note.refresh_from_db()
    assert note.signed_at is None


# --- signing ----------------------------------------------------------------------------


def test_signing_fixes_hash_signature_and_cosign_need(signed_note, counselor, test_now):
    note = ProgressNote.objects.get(pk=signed_note.pk)
    assert note.status == "signed" and note.signed_at == test_now
    assert note.requires_cosign  # the counselor is unlicensed
    assert note.author_credentials == "CADC-T"
    signature = Signature.objects.get(note=note)
    assert signature.role == "author" and signature.signer == counselor
    assert signature.content_hash == note.content_hash
    assert verify_signature(signature)
    assert AuditEvent.objects.filter(action="records.note.signed", object_id=str(note.pk)).exists()


def test_a_licensed_authors_note_needs_no_cosignature(make_note, patient, director):
    note = write_all(make_note(patient, director), director)
    assert not note_sign(actor=director, note=note).requires_cosign


def _sign_at(note, author, local_day: date, hour: int, minute: int, zone):
    return note_sign(
        actor=author,
        note=note,
        now=datetime.combine(local_day, time(hour, minute), tzinfo=zone).astimezone(UTC),
    )


@pytest.mark.date_sensitive
@pytest.mark.parametrize("zone_name", ["ny", "la"])
def test_signed_late_on_the_sites_clock_is_a_late_entry(
    zone_name, make_note, make_patient, site, other_site, director, today
):
    at_site, zone = (site, NY) if zone_name == "ny" else (other_site, LA)
    patient = make_patient(at_site=at_site)
    note = write_all(make_note(patient, director, day=service_day(today, 2)), director)
    signed = _sign_at(note, director, note.due_on + timedelta(days=1), 0, 30, zone)
    assert signed.is_late


@pytest.mark.date_sensitive
@pytest.mark.parametrize("zone_name", ["ny", "la"])
def test_signed_late_in_the_evening_of_the_due_day_is_on_time(
    zone_name, make_note, make_patient, site, other_site, director, today
):
    # 23:30 local on the due day is already the next day in UTC.
    at_site, zone = (site, NY) if zone_name == "ny" else (other_site, LA)
    patient = make_patient(at_site=at_site)
    note = write_all(make_note(patient, director, day=service_day(today, 2)), director)
    signed = _sign_at(note, director, note.due_on, 23, 30, zone)
    assert not signed.is_late


# --- signed content never changes --------------------------------------------------------


def _row(note) -> dict:
    return ProgressNote.objects.filter(pk=note.pk).values().get()


def test_a_signed_note_refuses_an_update_through_the_service(signed_note, counselor):
    before = _row(signed_note)
    with pytest.raises(ValidationError) as caught:
        note_update(actor=counselor, note=signed_note, sections={"data": "rewritten"})
    assert "signed" in str(caught.value)
    assert _row(signed_note) == before


def test_a_signed_note_refuses_a_second_signature(signed_note, counselor):
    before = _row(signed_note)
    with pytest.raises(ValidationError):
        note_sign(actor=counselor, note=signed_note)
    assert _row(signed_note) == before
    assert Signature.objects.filter(note=signed_note).count() == 1


def test_a_signed_note_refuses_an_objectives_change_through_the_service(
    make_note, make_plan, patient, counselor, test_now
):
    _, objective = make_plan(patient, counselor)
    note = note_sign(actor=counselor, note=write_all(make_note(patient, counselor), counselor))
    with pytest.raises(ValidationError):
        note_update(actor=counselor, note=note, sections={}, objective_ids=[objective.pk])
    assert not NoteObjective.objects.filter(note=note).exists()


postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the trigger exists on PostgreSQL only (SQLite relies on the services)",
)


@postgres_only
def test_the_database_refuses_an_sql_update_of_a_signed_note(signed_note):
    before = _row(signed_note)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE records_progressnote SET data = 'rewritten' WHERE id = %s", [signed_note.pk]
        )
    assert _row(signed_note) == before
    assert verify_signature(Signature.objects.get(note=signed_note))


@postgres_only
def test_the_database_refuses_an_orm_save_of_a_signed_note(signed_note):
    before = _row(signed_note)
    signed_note.assessment = "rewritten"
    with pytest.raises(IntegrityError), transaction.atomic():
        signed_note.save()
    assert _row(signed_note) == before


@postgres_only
def test_the_database_refuses_adding_an_objective_to_a_signed_note(
    make_note, make_plan, patient, counselor
):
    _, objective = make_plan(patient, counselor)
    note = note_sign(actor=counselor, note=write_all(make_note(patient, counselor), counselor))
    with pytest.raises(IntegrityError), transaction.atomic():
        NoteObjective.objects.create(note=note, objective=objective)
    assert not NoteObjective.objects.filter(note=note).exists()
