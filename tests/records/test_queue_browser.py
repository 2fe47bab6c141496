"""The supervisor's queue in a real browser, phone-sized: co-sign a group note (every
attendee's note with it) and a note from the queue, each after the confirmation; the
page passes axe-core."""

from __future__ import annotations

from datetime import timedelta

import pytest

from records.models import ProgressNote, RecordStatus
from tests.a11y import assert_accessible
from tests.conftest import save_screen

from . import _queue_fixtures as fx
from ._queue_fixtures import make_group_note, make_note, make_session

supervision = fx.supervision

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_supervisor_cosigns_from_the_queue(
    browser, live_server, login, supervision, counselor, track, make_patient, today, test_now
):
    people = [make_patient(track=track) for _ in range(3)]
    session = make_session(
        track=track,
        facilitator=counselor,
        day=today - timedelta(days=1),
        statuses=dict(zip(people, ["present", "present", "unexcused"], strict=True)),
    )
    group = make_group_note(session=session, author=counselor, signed_at=test_now)
    note = make_note(author=counselor, patient=people[2], service_date=today, signed_at=test_now)

    page = browser.new_context(viewport={"width": 375, "height": 812}).new_page()
    page.set_default_timeout(10_000)
    page.on("dialog", lambda dialog: dialog.accept())
    login(page, supervision.username)
    page.goto(f"{live_server.url}/records/queue/")
    assert page.get_by_test_id("queue-group-cosign").count() == 1
    assert page.get_by_test_id("queue-note-cosign").count() == 1
    assert_accessible(page, live_server.url)
    save_screen(page, "records_queue_supervisor")

    page.get_by_role("button", name="Co-sign group").click()
    page.get_by_text("Group note co-signed: 2 attendee notes.").wait_for()
    page.get_by_test_id("queue-note-cosign").get_by_role("button", name="Co-sign").click()
    page.get_by_text("co-signed.").first.wait_for()
    assert page.get_by_test_id("queue-note-cosign").count() == 0
    assert page.get_by_test_id("queue-group-cosign").count() == 0

    group.refresh_from_db()
    assert group.status == RecordStatus.COSIGNED
    statuses = set(ProgressNote.objects.filter(group_note=group).values_list("status", flat=True))
    assert statuses == {RecordStatus.COSIGNED}
    note.refresh_from_db()
    assert note.status == RecordStatus.COSIGNED and note.cosigned_by == supervision
