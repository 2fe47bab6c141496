"""In a real browser: from the attendance sheet, the facilitator writes the group note
once, individualizes one attendee, saves, signs (confirming), and reads back the signed
note; then prints the sign-in sheet. axe-core checks each page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from records.models import ProgressNote
from scheduling.models import AttendanceStatus
from tests.a11y import assert_accessible
from tests.conftest import save_screen

from ._groups_fixtures import *  # noqa: F403  (the fixtures)
from ._groups_fixtures import mark

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_facilitator_writes_signs_and_prints(
    page, live_server, login, counselor, group_session, make_attendees
):
    robin, kim, lee = make_attendees(3)
    mark(group_session, robin, AttendanceStatus.PRESENT)
    mark(group_session, kim, AttendanceStatus.LATE, late_by=30)
    mark(group_session, lee, AttendanceStatus.EXCUSED)

    login(page, "counselor")
    page.goto(f"{live_server.url}/scheduling/sessions/{group_session.pk}/")
    page.get_by_test_id("group-note-link").click()
    expect(page.get_by_test_id("group-note-heading")).to_be_visible()
    page.get_by_label("What the group did").fill("Relapse-prevention role-play in pairs.")
    page.get_by_label(f"Individual part for {robin.display_name} (optional)").fill(
        "Practised a refusal script."
    )
    expect(
        page.get_by_test_id(f"attendee-{lee.pk}").get_by_text("Absent: no note.")
    ).to_be_visible()
    assert_accessible(page, live_server.url)
    page.get_by_role("button", name="Save draft").click()
    page.get_by_text("Group note saved as a draft.").wait_for()
    save_screen(page, "records_group_note_draft")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("group-sign").click()
    page.get_by_text("a locked note is in 2 charts").wait_for()
    expect(page.get_by_test_id("group-signed")).to_be_visible()
    assert_accessible(page, live_server.url)
    save_screen(page, "records_group_note_signed")
    assert ProgressNote.objects.get(patient=robin).response == "Practised a refusal script."
    assert ProgressNote.objects.get(patient=kim).minutes == 150

    page.goto(f"{live_server.url}/records/sessions/{group_session.pk}/sign-in-sheet/")
    expect(page.get_by_role("cell", name=lee.display_name, exact=True)).to_be_visible()
    expect(page.get_by_test_id("print-button")).to_be_visible()
    assert_accessible(page, live_server.url)
    page.emulate_media(media="print")
    expect(page.locator("nav.navbar")).to_be_hidden()
    expect(page.get_by_test_id("print-button")).to_be_hidden()
    save_screen(page, "records_signin_sheet_print")
