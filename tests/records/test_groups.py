"""Group notes, the services: the shared part written once, a part per present
attendee, signing writes one locked note into each present attendee's chart."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from core.models import AuditEvent
from records.models import (
    GroupNote,
    GroupNoteEntry,
    NoteKind,
    ProgressNote,
    RecordStatus,
    ServiceType,
    Signature,
)
from records.services.groups import group_note_save, group_note_sign
from records.signing import digest, note_payload, verify_signature
from scheduling.models import AttendanceStatus, SessionStatus

from ._groups_fixtures import *  # noqa: F403  (the fixtures)
from ._groups_fixtures import make_group_session, mark

pytestmark = pytest.mark.django_db


def _save(actor, session, entries=None, **extra):
    return group_note_save(
        actor=actor,
        session=session,
        topic=extra.pop("topic", "Triggers"),
        service_type=extra.pop("service_type", ServiceType.RELAPSE_PREVENTION),
        shared_text=extra.pop("shared_text", "Reviewed high-risk situations; role-play."),
        entries=entries or {},
        **extra,
    )


def test_signing_writes_one_locked_note_per_present_attendee(
    counselor, group_session, six_attendees
):
    _save(counselor, group_session)
    group = group_note_sign(actor=counselor, session=group_session)
    notes = {n.patient_id: n for n in ProgressNote.objects.filter(group_note=group)}
    absent = six_attendees[5]
    assert len(notes) == 5
    assert absent.pk not in notes
    expected = {
        six_attendees[0].pk: ("present", 180),
        six_attendees[3].pk: ("late", 160),
        six_attendees[4].pk: ("left_early", 135),
    }
    for patient_id, (status, minutes) in expected.items():
        note = notes[patient_id]
        assert (note.attendance_status, note.minutes) == (status, minutes)
    for note in notes.values():
        assert note.kind == NoteKind.GROUP and note.status == RecordStatus.SIGNED
        assert note.signed_at is not None and note.session_id == group_session.pk
        assert note.content_hash == digest(note_payload(note))
        assert note.service_date == group_session.local_date
        assert (note.starts_at, note.ends_at) == (group_session.starts_at, group_session.ends_at)
        assert note.shared_text == "Reviewed high-risk situations; role-play."
        assert verify_signature(Signature.objects.get(note=note, role="author"))
    group.refresh_from_db()
    assert group.status == RecordStatus.SIGNED and group.content_hash


def test_absent_patient_gets_no_note_even_excused(counselor, group_session, make_attendees):
    here, away = make_attendees(2)
    mark(group_session, here, AttendanceStatus.PRESENT)
    mark(group_session, away, AttendanceStatus.EXCUSED)
    _save(counselor, group_session)
    group_note_sign(actor=counselor, session=group_session)
    assert list(ProgressNote.objects.values_list("patient_id", flat=True)) == [here.pk]


def test_individual_part_lands_only_in_that_patients_note(counselor, group_session, six_attendees):
    first, second = six_attendees[0], six_attendees[1]
    _save(counselor, group_session, {first.pk: "Named two triggers at work."})
    group_note_sign(actor=counselor, session=group_session)
    assert ProgressNote.objects.get(patient=first).response == "Named two triggers at work."
    others = ProgressNote.objects.exclude(patient=first)
    assert not others.exclude(response="").exists()
    assert ProgressNote.objects.get(patient=second).response == ""


def test_signing_twice_is_refused(counselor, group_session, six_attendees):
    _save(counselor, group_session)
    group_note_sign(actor=counselor, session=group_session)
    with pytest.raises(ValidationError, match="already signed"):
        group_note_sign(actor=counselor, session=group_session)
    assert ProgressNote.objects.count() == 5
    assert Signature.objects.count() == 5


def test_saving_a_signed_group_note_is_refused(counselor, group_session, six_attendees):
    _save(counselor, group_session)
    group_note_sign(actor=counselor, session=group_session)
    with pytest.raises(ValidationError, match="signed and can no longer be changed"):
        _save(counselor, group_session, shared_text="Rewritten")
    assert GroupNote.objects.get().shared_text == "Reviewed high-risk situations; role-play."


def test_signing_needs_attendance_taken(counselor, group_session, make_attendees):
    make_attendees(3)
    _save(counselor, group_session)
    with pytest.raises(ValidationError, match="Take attendance first"):
        group_note_sign(actor=counselor, session=group_session)
    assert not ProgressNote.objects.exists()
    assert GroupNote.objects.get().status == RecordStatus.DRAFT


def test_signing_needs_every_rostered_patient_marked(counselor, group_session, make_attendees):
    marked, _unmarked = make_attendees(2)
    mark(group_session, marked, AttendanceStatus.PRESENT)
    _save(counselor, group_session)
    with pytest.raises(ValidationError, match="1 not marked"):
        group_note_sign(actor=counselor, session=group_session)
    assert not ProgressNote.objects.exists()


def test_signing_needs_a_draft(counselor, group_session, six_attendees):
    with pytest.raises(ValidationError, match="Write the group note"):
        group_note_sign(actor=counselor, session=group_session)


def test_only_the_author_signs(counselor, other_counselor, group_session, six_attendees):
    _save(counselor, group_session)
    with pytest.raises(ValidationError, match="Only its author"):
        group_note_sign(actor=other_counselor, session=group_session)
    assert not ProgressNote.objects.exists()


def test_unlicensed_author_notes_wait_for_a_cosign(counselor, group_session, six_attendees):
    _save(counselor, group_session)
    group_note_sign(actor=counselor, session=group_session)
    assert all(n.awaiting_cosign for n in ProgressNote.objects.all())


def test_licensed_author_notes_need_no_cosign(counselor, group_session, six_attendees):
    counselor.staff.licensed = True
    counselor.staff.credentials = "LMHC"
    counselor.staff.save()
    _save(counselor, group_session)
    group_note_sign(actor=counselor, session=group_session)
    notes = ProgressNote.objects.all()
    assert not any(n.requires_cosign for n in notes)
    assert {n.author_credentials for n in notes} == {"LMHC"}


def test_a_note_signed_after_its_due_day_is_late(counselor, track, make_attendees, test_now):
    old = make_group_session(track, test_now - timedelta(days=10))
    (p,) = make_attendees(1)
    mark(old, p, AttendanceStatus.PRESENT)
    _save(counselor, old)
    group_note_sign(actor=counselor, session=old)
    note = ProgressNote.objects.get()
    assert note.is_late and note.due_on < test_now.date()


def test_signing_writes_an_audit_row_per_note_and_one_for_the_group(
    counselor, group_session, six_attendees
):
    _save(counselor, group_session)
    group_note_sign(actor=counselor, session=group_session)
    per_note = AuditEvent.objects.filter(action="records.note.signed", actor=counselor)
    assert sorted(per_note.values_list("patient_id", flat=True)) == sorted(
        p.pk for p in six_attendees[:5]
    )
    assert AuditEvent.objects.filter(action="records.group_note.signed").count() == 1


def test_entries_are_refused_for_an_absent_patient(counselor, group_session, six_attendees):
    with pytest.raises(ValidationError, match="absent"):
        _save(counselor, group_session, {six_attendees[5].pk: "Was not there"})
    assert not GroupNote.objects.exists()


def test_entries_are_refused_for_someone_not_at_the_session(
    counselor, group_session, six_attendees, other_patient
):
    with pytest.raises(ValidationError, match="only be written for an attendee"):
        _save(counselor, group_session, {other_patient.pk: "Not here"})
    assert not GroupNoteEntry.objects.exists()


def test_a_future_session_cannot_be_documented(counselor, track, test_now):
    later = make_group_session(track, test_now + timedelta(hours=2))
    with pytest.raises(ValidationError, match="not started"):
        _save(counselor, later)
    assert not GroupNote.objects.exists()


def test_a_cancelled_session_cannot_be_documented(counselor, group_session):
    group_session.status = SessionStatus.CANCELLED
    group_session.save()
    with pytest.raises(ValidationError, match="cancelled"):
        _save(counselor, group_session)


def test_another_sites_counselor_cannot_write(outside_counselor, group_session):
    with pytest.raises(ValidationError, match="No such session"):
        _save(outside_counselor, group_session)
    assert not GroupNote.objects.exists()


def test_front_desk_cannot_write(frontdesk, group_session):
    with pytest.raises(ValidationError, match="Only clinicians"):
        _save(frontdesk, group_session)


def test_an_emptied_part_is_removed_from_the_draft(counselor, group_session, six_attendees):
    p = six_attendees[0]
    _save(counselor, group_session, {p.pk: "First words"})
    _save(counselor, group_session, {p.pk: ""})
    assert not GroupNoteEntry.objects.exists()


def test_a_migrated_draft_is_taken_by_its_first_writer(counselor, group_session, six_attendees):
    GroupNote.objects.create(
        session=group_session,
        author=None,
        shared_text="Old free text",
        created_at=group_session.ends_at,
        updated_at=group_session.ends_at,
        migrated=True,
    )
    _save(counselor, group_session, shared_text="Old free text, reviewed")
    group = GroupNote.objects.get()
    assert group.author == counselor and group.migrated
