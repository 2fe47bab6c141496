"""Progress-note pages: who reads and writes them, the audit rows of every look, the
routes that must never change a signed note, and pinned query counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from core.models import AuditEvent
from records.models import NoteObjective, ProgressNote, RecordSettings, Signature
from records.services.notes import note_sign
from tests.records._notes_fixtures import *  # noqa: F403
from tests.records._notes_fixtures import service_day, write_all


def _edit_data(note, **extra):
    data = {
        "service_type": note.service_type,
        "service_date": note.service_date.isoformat(),
        "start": "10:00",
        "end": "10:50",
        "data": "Came on time; talked about work stress.",
        "assessment": "Engaged; cravings lower.",
        "plan": "Next session Tuesday.",
        "response": "Agreed to call the sponsor daily.",
    }
    data.update(extra)
    return data


def _row(note) -> dict:
    return ProgressNote.objects.filter(pk=note.pk).values().get()


# --- access: owner, colleague, outsiders, roles that do not read notes ----------------------


def test_owner_reads_the_note_and_an_audit_row_is_written(client, signed_note, counselor):
    client.force_login(counselor)
    response = client.get(reverse("records:note", args=[signed_note.pk]))
    assert response.status_code == 200
    assert b"data text" in response.content
    assert AuditEvent.objects.filter(
        action="records.note.view", outcome="ok", object_id=str(signed_note.pk)
    ).exists()


def test_a_nurse_of_the_site_reads_the_note(client, signed_note, nurse):
    client.force_login(nurse)
    assert client.get(reverse("records:note", args=[signed_note.pk])).status_code == 200


def test_a_colleague_outside_the_care_team_gets_404_and_a_denied_row(
    client, signed_note, other_counselor
):
    client.force_login(other_counselor)
    assert client.get(reverse("records:note", args=[signed_note.pk])).status_code == 404
    assert AuditEvent.objects.filter(action="records.note.view", outcome="denied").exists()


@pytest.mark.parametrize("who", ["outside_counselor", "other_org_director"])
def test_outsiders_get_404_for_the_note_and_the_list(client, signed_note, patient, who, request):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("records:note", args=[signed_note.pk])).status_code == 404
    assert client.get(reverse("records:patient_notes", args=[patient.pk])).status_code == 404
    assert AuditEvent.objects.filter(outcome="denied", action="records.note.view").exists()


@pytest.mark.parametrize("who", ["frontdesk", "collector"])
def test_front_desk_and_collectors_do_not_read_clinical_notes(
    client, signed_note, patient, who, request
):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("records:note", args=[signed_note.pk])).status_code == 403
    assert client.get(reverse("records:patient_notes", args=[patient.pk])).status_code == 403
    assert client.get(reverse("records:note_new", args=[patient.pk])).status_code == 403


def test_a_patient_gets_404_for_a_staff_note_page(client, signed_note, patient):
    client.force_login(patient.user)
    assert client.get(reverse("records:note", args=[signed_note.pk])).status_code == 404


def test_the_chart_shows_the_notes_panel_to_clinicians_only(
    client, signed_note, patient, counselor, frontdesk
):
    client.force_login(counselor)
    page = client.get(reverse("patients:chart", args=[patient.pk])).content.decode()
    assert 'data-testid="notes-chart-panel"' in page and "Awaiting co-signature" in page
    client.force_login(frontdesk)
    page = client.get(reverse("patients:chart", args=[patient.pk])).content.decode()
    assert "notes-chart-panel" not in page


# --- the list -----------------------------------------------------------------------------


def test_the_list_shows_status_badges_newest_first_with_an_audit_row(
    client, make_note, patient, counselor, director, today
):
    old = write_all(make_note(patient, director, day=service_day(today, 20)), director)
    note_sign(actor=director, note=old)  # signed well after its due day: late entry
    make_note(patient, counselor, day=service_day(today, 1))
    client.force_login(counselor)
    page = client.get(reverse("records:patient_notes", args=[patient.pk])).content.decode()
    assert page.index("Draft") < page.index("Late entry")
    assert ">Signed<" in page
    assert AuditEvent.objects.filter(action="records.notes.view", patient_id=patient.pk).exists()


# --- new note -----------------------------------------------------------------------------


def test_new_note_post_starts_a_draft_and_goes_to_its_edit_page(client, patient, counselor, today):
    client.force_login(counselor)
    day = service_day(today)
    response = client.post(
        reverse("records:note_new", args=[patient.pk]) + "?kind=family",
        {
            "kind": "family",
            "format": "SOAP",
            "service_type": "family_counseling",
            "service_date": day.isoformat(),
            "start": "15:00",
            "end": "15:45",
        },
    )
    note = ProgressNote.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("records:note_edit", args=[note.pk])
    assert (note.kind, note.format, note.author) == ("family", "SOAP", counselor)
    assert note.starts_at.astimezone(patient.site.tz).hour == 15


def test_new_note_with_a_format_the_site_does_not_use_shows_a_clear_message(
    client, patient, counselor, site, today
):
    RecordSettings.objects.create(site=site, note_formats="DAP")
    client.force_login(counselor)
    response = client.post(
        reverse("records:note_new", args=[patient.pk]),
        {
            "kind": "individual",
            "format": "SOAP",
            "service_type": "individual_counseling",
            "service_date": service_day(today).isoformat(),
            "start": "10:00",
            "end": "10:30",
        },
    )
    assert response.status_code == 422
    assert "This site does not use that format: choose DAP." in response.content.decode()
    assert not ProgressNote.objects.exists()


def test_new_note_with_a_future_date_is_refused_on_the_form(client, patient, counselor, today):
    client.force_login(counselor)
    response = client.post(
        reverse("records:note_new", args=[patient.pk]),
        {
            "kind": "mat",
            "format": "DAP",
            "service_type": "medication_management",
            "service_date": (today + timedelta(days=3)).isoformat(),
            "start": "10:00",
            "end": "10:30",
        },
    )
    assert response.status_code == 422
    assert not ProgressNote.objects.exists()


# --- edit and sign --------------------------------------------------------------------------


def test_author_saves_the_draft_with_objectives(client, make_note, make_plan, patient, counselor):
    _, objective = make_plan(patient, counselor)
    note = make_note(patient, counselor)
    client.force_login(counselor)
    page = client.get(reverse("records:note_edit", args=[note.pk])).content.decode()
    assert "I want to stay clean &gt; Name three triggers" in page
    response = client.post(
        reverse("records:note_edit", args=[note.pk]), _edit_data(note, objectives=[objective.pk])
    )
    assert response.status_code == 302
    note.refresh_from_db()
    assert note.response == "Agreed to call the sponsor daily."
    assert NoteObjective.objects.filter(note=note, objective=objective).exists()


def test_objectives_of_another_patients_plan_are_refused_on_the_form(
    client, make_note, make_plan, patient, other_patient, counselor
):
    make_plan(patient, counselor)
    _, theirs = make_plan(other_patient, counselor)
    note = make_note(patient, counselor)
    client.force_login(counselor)
    response = client.post(
        reverse("records:note_edit", args=[note.pk]), _edit_data(note, objectives=[theirs.pk])
    )
    assert response.status_code == 422
    assert not NoteObjective.objects.filter(note=note).exists()


def test_a_colleague_cannot_edit_or_sign_someone_elses_draft(
    client, make_note, patient, counselor, director
):
    note = write_all(make_note(patient, counselor), counselor)
    before = _row(note)
    client.force_login(director)
    edit = client.post(reverse("records:note_edit", args=[note.pk]), _edit_data(note, data="x"))
    sign = client.post(reverse("records:note_sign", args=[note.pk]), {"confirm": "on"})
    assert edit.status_code == sign.status_code == 409
    assert _row(note) == before
    assert not Signature.objects.exists()


def test_author_signs_with_confirmation(client, make_note, patient, counselor):
    note = write_all(make_note(patient, counselor), counselor)
    client.force_login(counselor)
    unconfirmed = client.post(reverse("records:note_sign", args=[note.pk]), {"x": "1"})
    assert unconfirmed.status_code == 422
    assert ProgressNote.objects.get(pk=note.pk).status == "draft"
    response = client.post(reverse("records:note_sign", args=[note.pk]), {"confirm": "on"})
    assert response.status_code == 302
    assert ProgressNote.objects.get(pk=note.pk).status == "signed"


def test_signing_an_empty_note_shows_what_is_missing(client, make_note, patient, counselor):
    note = make_note(patient, counselor)
    client.force_login(counselor)
    response = client.post(reverse("records:note_sign", args=[note.pk]), {"confirm": "on"})
    assert response.status_code == 422
    assert "Write the Data section before signing." in response.content.decode()
    assert ProgressNote.objects.get(pk=note.pk).signed_at is None


def test_the_note_page_shows_author_credentials_signature_time_and_late_entry(
    client, make_note, patient, director, today
):
    note = write_all(make_note(patient, director, day=service_day(today, 20)), director)
    note = note_sign(actor=director, note=note)
    client.force_login(director)
    page = client.get(reverse("records:note", args=[note.pk])).content.decode()
    assert "Director, LCSW" in page
    assert 'data-testid="late-entry"' in page
    assert "Add addendum" in page


# --- a signed note cannot be changed by any route ---------------------------------------------


def test_edit_get_of_a_signed_note_shows_it_read_only(client, signed_note, counselor):
    client.force_login(counselor)
    response = client.get(reverse("records:note_edit", args=[signed_note.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "can no longer be changed" in page
    assert "<textarea" not in page


def test_edit_post_of_a_signed_note_changes_nothing(client, signed_note, counselor):
    before = _row(signed_note)
    client.force_login(counselor)
    response = client.post(
        reverse("records:note_edit", args=[signed_note.pk]), _edit_data(signed_note, data="new")
    )
    assert response.status_code == 409
    assert _row(signed_note) == before


def test_objectives_change_post_on_a_signed_note_changes_nothing(
    client, make_note, make_plan, patient, counselor
):
    _, objective = make_plan(patient, counselor)
    note = note_sign(actor=counselor, note=write_all(make_note(patient, counselor), counselor))
    client.force_login(counselor)
    response = client.post(
        reverse("records:note_edit", args=[note.pk]), _edit_data(note, objectives=[objective.pk])
    )
    assert response.status_code == 409
    assert not NoteObjective.objects.filter(note=note).exists()


def test_signing_again_changes_nothing(client, signed_note, counselor):
    before = _row(signed_note)
    client.force_login(counselor)
    response = client.post(reverse("records:note_sign", args=[signed_note.pk]), {"confirm": "on"})
    assert response.status_code == 409
    assert _row(signed_note) == before
    assert Signature.objects.filter(note=signed_note).count() == 1


# --- pinned query counts ----------------------------------------------------------------------

# Measured on PostgreSQL: session, user and staff profile; the access rule (the counselor's
# sites, then the patient or note); the page's reads; the audit row (appended without a
# lock since #20). The same count with 2 notes and with 30 (a page of 25): nothing is read per note.
# The list reads the plan in force with its site (the signing time is on the site's clock).
NOTE_PAGE_QUERIES = 9
NOTES_LIST_QUERIES = 9


def _fill(make_note, make_plan, patient, counselor, today, count):
    _, objective = make_plan(patient, counselor)
    notes = []
    for i in range(count):
        note = make_note(patient, counselor, day=service_day(today, 1 + i % 30))
        write_all(note, counselor, objective_ids=[objective.pk])
        if i % 2:
            note = note_sign(actor=counselor, note=note)
        notes.append(note)
    return notes


@pytest.mark.parametrize("count", [2, 30])
def test_note_page_query_count(
    client, make_note, make_plan, patient, counselor, today, count, django_assert_num_queries
):
    from records.services.signoff import addendum_add

    notes = _fill(make_note, make_plan, patient, counselor, today, count)
    signed = notes[1]
    for _ in range(count // 2):
        addendum_add(actor=counselor, target=signed, text="More.")
    client.force_login(counselor)
    url = reverse("records:note", args=[signed.pk])
    client.get(url)
    with django_assert_num_queries(NOTE_PAGE_QUERIES):
        assert client.get(url).status_code == 200


@pytest.mark.parametrize("count", [2, 30])
def test_patient_notes_list_query_count(
    client, make_note, make_plan, patient, counselor, today, count, django_assert_num_queries
):
    _fill(make_note, make_plan, patient, counselor, today, count)
    client.force_login(counselor)
    url = reverse("records:patient_notes", args=[patient.pk])
    client.get(url)
    with django_assert_num_queries(NOTES_LIST_QUERIES):
        assert client.get(url).status_code == 200


@pytest.mark.parametrize(
    "route", ["records:note_edit", "records:note_sign", "records:note_addendum"]
)
def test_every_page_that_shows_a_note_writes_a_view_row(
    client, make_note, patient, counselor, route
):
    note = write_all(make_note(patient, counselor), counselor)
    client.force_login(counselor)
    assert client.get(reverse(route, args=[note.pk])).status_code == 200
    assert AuditEvent.objects.filter(
        action="records.note.view", outcome="ok", object_id=str(note.pk)
    ).exists()


def test_a_colleague_opening_someone_elses_draft_for_editing_sees_it_read_only(
    client, make_note, patient, counselor, director
):
    note = make_note(patient, counselor)
    client.force_login(director)
    response = client.get(reverse("records:note_edit", args=[note.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Only the author of a draft edits it." in page
    assert "<textarea" not in page


def test_staff_home_lists_my_drafts_with_the_overdue_one_marked(
    client, make_note, patient, counselor, director, today
):
    mine = make_note(patient, counselor, day=service_day(today, 20))
    theirs = make_note(patient, director)
    client.force_login(counselor)
    page = client.get(reverse("home")).content.decode()
    assert 'data-testid="notes-drafts-panel"' in page
    assert reverse("records:note_edit", args=[mine.pk]) in page
    assert reverse("records:note_edit", args=[theirs.pk]) not in page
    assert "Overdue" in page
