"""Addenda: beside the untouched original, on signed content only, by the pages of a
note and of a plan version."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from core.models import AuditEvent
from records.models import Addendum, ProgressNote, Signature
from records.services.signoff import addendum_add
from records.signing import verify_signature
from tests.records._notes_fixtures import *  # noqa: F403


def test_addendum_post_appears_beside_the_original_which_still_verifies(
    client, signed_note, director
):
    before = ProgressNote.objects.filter(pk=signed_note.pk).values().get()
    client.force_login(director)
    response = client.post(
        reverse("records:note_addendum", args=[signed_note.pk]),
        {"kind": "late_entry", "text": "Patient also reported a lapse on Sunday.", "reason": ""},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("records:note", args=[signed_note.pk])
    addendum = Addendum.objects.get(note=signed_note)
    assert (addendum.kind, addendum.author, addendum.author_credentials) == (
        "late_entry",
        director,
        "LCSW",
    )
    assert ProgressNote.objects.filter(pk=signed_note.pk).values().get() == before
    assert verify_signature(Signature.objects.get(note=signed_note))
    page = client.get(response["Location"]).content.decode()
    original = page.index('data-testid="note-original"')
    beside = page.index('data-testid="addenda"')
    assert original < beside
    assert "Patient also reported a lapse on Sunday." in page[beside:]
    assert "Late entry" in page[beside:] and "Director, LCSW" in page[beside:]


def test_an_addendum_on_a_draft_is_refused_by_the_service(make_note, patient, counselor):
    note = make_note(patient, counselor)
    with pytest.raises(ValidationError) as caught:
        addendum_add(actor=counselor, target=note, text="More.")
    assert "still a draft" in str(caught.value)
    assert not Addendum.objects.exists()


def test_an_addendum_on_a_draft_is_refused_on_the_page(client, make_note, patient, counselor):
    note = make_note(patient, counselor)
    client.force_login(counselor)
    response = client.post(
        reverse("records:note_addendum", args=[note.pk]), {"kind": "addendum", "text": "More."}
    )
    assert response.status_code == 422
    assert "still a draft" in response.content.decode()
    assert not Addendum.objects.exists()


def test_an_outsider_cannot_add_an_addendum(client, signed_note, outside_counselor):
    client.force_login(outside_counselor)
    response = client.post(
        reverse("records:note_addendum", args=[signed_note.pk]),
        {"kind": "addendum", "text": "Not mine."},
    )
    assert response.status_code == 404
    assert not Addendum.objects.exists()
    assert AuditEvent.objects.filter(action="records.note.view", outcome="denied").exists()


def test_front_desk_cannot_add_an_addendum(client, signed_note, frontdesk):
    client.force_login(frontdesk)
    response = client.post(
        reverse("records:note_addendum", args=[signed_note.pk]),
        {"kind": "addendum", "text": "Not a clinician."},
    )
    assert response.status_code == 403
    assert not Addendum.objects.exists()


def test_plan_addendum_is_added_and_the_plan_still_verifies(
    client, make_plan, patient, counselor, director
):
    from records.signing import current_hash

    version, _ = make_plan(patient, counselor)
    client.force_login(director)
    response = client.post(
        reverse("records:plan_addendum", args=[version.pk]),
        {"kind": "addendum", "text": "Patient asked for evening groups.", "reason": "Preference"},
    )
    assert response.status_code == 302
    addendum = Addendum.objects.get(plan_version=version)
    assert addendum.reason == "Preference"
    version.refresh_from_db()
    assert current_hash(version) == version.content_hash
    assert AuditEvent.objects.filter(action="records.plan.view", object_id=str(version.pk)).exists()


def test_plan_addendum_of_another_sites_patient_is_404(
    client, make_plan, patient, counselor, outside_counselor
):
    version, _ = make_plan(patient, counselor)
    client.force_login(outside_counselor)
    response = client.post(
        reverse("records:plan_addendum", args=[version.pk]), {"kind": "addendum", "text": "x"}
    )
    assert response.status_code == 404
    assert not Addendum.objects.exists()


def test_an_addendum_on_a_draft_plan_version_is_refused(client, make_plan, patient, counselor):
    from records.models import PlanVersion

    version, _ = make_plan(patient, counselor)
    draft = PlanVersion.objects.create(
        plan=version.plan,
        number=2,
        kind="review",
        level=version.level,
        author=counselor,
        created_at=version.created_at,
        updated_at=version.created_at,
    )
    client.force_login(counselor)
    response = client.post(
        reverse("records:plan_addendum", args=[draft.pk]), {"kind": "addendum", "text": "x"}
    )
    assert response.status_code == 422
    assert "still a draft" in response.content.decode()
    assert not Addendum.objects.exists()
