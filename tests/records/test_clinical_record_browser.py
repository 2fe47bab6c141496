"""The issue's main flow in a real browser, end to end through the apps' own screens:

the counselor (unlicensed, supervised by the director) writes a group note once for a
session of six with one absent, individualizes two attendees, and signs; each of the
five who came has their own locked note in their chart with their own minutes, the
absentee none; the director co-signs the group from the queue; a correction is an
addendum shown beside the untouched original. axe-core checks each new page."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from records.models import GroupNote, ProgressNote, RecordStatus
from records.signing import verify_signature
from tests.a11y import assert_accessible
from tests.conftest import save_screen

from . import _queue_fixtures as fx
from ._groups_fixtures import *  # noqa: F403  (group_session, make_attendees, six_attendees)

supervision = fx.supervision  # the director (licensed) supervises the counselor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_group_note_signed_into_five_charts_cosigned_and_amended(
    page,
    live_server,
    login,
    supervision,
    counselor,
    group_session,
    six_attendees,  # noqa: F811
):
    absent = six_attendees[5]
    came = six_attendees[:5]
    first, late = came[0], came[3]

    # The counselor writes the shared part once and two individual parts, then signs.
    login(page, "counselor")
    page.goto(f"{live_server.url}/scheduling/sessions/{group_session.pk}/")
    page.get_by_test_id("group-note-link").click()
    page.get_by_label("What the group did").fill("Mapped high-risk situations; role-play.")
    page.get_by_label(f"Individual part for {first.display_name} (optional)").fill(
        "Named payday as a trigger; practised a refusal."
    )
    page.get_by_label(f"Individual part for {late.display_name} (optional)").fill(
        "Arrived late; engaged in the second half."
    )
    expect(
        page.get_by_test_id(f"attendee-{absent.pk}").get_by_text("Absent: no note.")
    ).to_be_visible()
    page.get_by_role("button", name="Save draft").click()
    page.get_by_text("Group note saved as a draft.").wait_for()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("group-sign").click()
    page.get_by_text("a locked note is in 5 charts").wait_for()
    save_screen(page, "records_flow_group_signed")

    group = GroupNote.objects.get(session=group_session)
    assert group.status == RecordStatus.SIGNED
    assert not ProgressNote.objects.filter(patient=absent).exists()

    # Each chart shows that patient's own locked note, with their own minutes.
    for patient in came:
        note = ProgressNote.objects.get(patient=patient, group_note=group)
        page.goto(f"{live_server.url}/patients/{patient.pk}/")
        panel = page.get_by_test_id("notes-chart-panel")
        panel.get_by_role("link", name="Group").click()
        original = page.get_by_test_id("note-original")
        assert "Awaiting co-signature" in original.get_by_test_id("note-status").inner_text()
        assert f"{note.minutes} (" in original.inner_text()
        assert note.minutes == note.attendance.minutes_credited
    first_note = ProgressNote.objects.get(patient=first, group_note=group)
    late_note = ProgressNote.objects.get(patient=late, group_note=group)
    assert first_note.response == "Named payday as a trigger; practised a refusal."
    assert late_note.minutes < first_note.minutes
    assert ProgressNote.objects.get(patient=came[1], group_note=group).response == ""
    # Locked: the note's edit page refuses a change, and the database row is as signed.
    author = Client()
    author.force_login(counselor)
    response = author.post(
        reverse("records:note_edit", args=[first_note.pk]), {"response": "rewritten"}
    )
    assert response.status_code == 409
    first_note.refresh_from_db()
    assert first_note.response == "Named payday as a trigger; practised a refusal."

    # The director co-signs the whole group from the queue.
    page.context.clear_cookies()
    login(page, "director")
    page.goto(f"{live_server.url}/records/queue/")
    group_row = page.get_by_test_id("queue-group-cosign")
    assert group_row.count() == 1
    page.once("dialog", lambda dialog: dialog.accept())
    group_row.get_by_role("button", name="Co-sign group").click()
    page.get_by_text("Group note co-signed: 5 attendee notes.").wait_for()
    assert set(ProgressNote.objects.filter(group_note=group).values_list("status", flat=True)) == {
        RecordStatus.COSIGNED
    }

    # A correction on one attendee's note is an addendum beside the untouched original.
    page.goto(f"{live_server.url}/records/notes/{first_note.pk}/")
    page.get_by_test_id("addenda").get_by_role("link", name="Add addendum").click()
    page.get_by_label("Addendum").fill("Also disclosed a lapse on Saturday; safety plan reviewed.")
    page.get_by_label("Reason").fill("Omitted at signing.")
    page.get_by_role("button", name="Add addendum").click()
    addendum = page.get_by_test_id("addendum").first
    addendum.wait_for()
    assert "Also disclosed a lapse on Saturday" in addendum.inner_text()
    original = page.get_by_test_id("note-original")
    assert "Named payday as a trigger; practised a refusal." in original.inner_text()
    assert "Also disclosed a lapse" not in original.inner_text()
    assert "Co-signed" in original.get_by_test_id("note-status").inner_text()
    assert_accessible(page, live_server.url)
    save_screen(page, "records_flow_addendum")

    first_note.refresh_from_db()
    assert first_note.response == "Named payday as a trigger; practised a refusal."
    assert all(verify_signature(s) for s in first_note.signatures.all())
    assert first_note.addenda.count() == 1
