"""The group-note screen: who gets in, what a POST changes, what a signed note refuses
(every route, and the database itself), the audit row of a view, and its query count."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from core.models import AuditEvent
from records.models import GroupNote, GroupNoteEntry, ProgressNote, RecordStatus, ServiceType
from records.services.groups import group_note_save, group_note_sign
from scheduling.models import AttendanceStatus

from ._groups_fixtures import *  # noqa: F403  (the fixtures)
from ._groups_fixtures import make_group_session, mark

pytestmark = pytest.mark.django_db


def _url(session, name="records:group_note"):
    return reverse(name, args=[session.pk])


def _form(attendees=(), **extra):
    data = {
        "topic": "Triggers",
        "service_type": ServiceType.RELAPSE_PREVENTION,
        "shared_text": "Reviewed high-risk situations.",
    }
    data.update({f"entry_{p.pk}": text for p, text in attendees})
    data.update(extra)
    return data


def _signed(counselor, session):
    group_note_save(
        actor=counselor,
        session=session,
        topic="Triggers",
        service_type=ServiceType.RELAPSE_PREVENTION,
        shared_text="The original shared part.",
        entries={},
    )
    return group_note_sign(actor=counselor, session=session)


def test_facilitator_sees_the_screen(client, counselor, group_session, six_attendees):
    client.force_login(counselor)
    response = client.get(_url(group_session))
    assert response.status_code == 200
    body = response.content.decode()
    assert f'name="entry_{six_attendees[0].pk}"' in body
    # The absentee is listed, without a box for an individual part.
    assert six_attendees[5].display_name in body
    assert f'name="entry_{six_attendees[5].pk}"' not in body


def test_viewing_the_screen_writes_an_audit_row(client, counselor, group_session, six_attendees):
    client.force_login(counselor)
    client.get(_url(group_session))
    row = AuditEvent.objects.get(action="records.group_note.view")
    assert row.actor == counselor and row.site_id == group_session.site_id
    assert row.detail["attendees"] == 6


def test_saving_the_draft_stores_shared_and_individual_parts(
    client, counselor, group_session, six_attendees
):
    client.force_login(counselor)
    first = six_attendees[0]
    response = client.post(_url(group_session), _form([(first, "Named a trigger.")]))
    assert response.status_code == 302
    group = GroupNote.objects.get(session=group_session)
    assert group.status == RecordStatus.DRAFT and group.author == counselor
    assert group.shared_text == "Reviewed high-risk situations."
    assert list(GroupNoteEntry.objects.values_list("patient_id", "text")) == [
        (first.pk, "Named a trigger.")
    ]
    assert AuditEvent.objects.filter(action="records.group_note.saved").count() == 1


def test_a_colleague_at_the_site_may_write(client, other_counselor, group_session, six_attendees):
    client.force_login(other_counselor)
    assert client.get(_url(group_session)).status_code == 200
    assert client.post(_url(group_session), _form()).status_code == 302
    assert GroupNote.objects.get().author == other_counselor


def test_another_sites_counselor_gets_404_and_an_audit_row(
    client, outside_counselor, group_session, six_attendees
):
    client.force_login(outside_counselor)
    assert client.get(_url(group_session)).status_code == 404
    assert client.post(_url(group_session), _form()).status_code == 404
    assert client.post(_url(group_session, "records:group_sign")).status_code == 404
    assert AuditEvent.objects.filter(actor=outside_counselor, outcome="denied").count() == 3
    assert not GroupNote.objects.exists()


def test_another_organisations_counselor_gets_404(client, make_staff, group_session):
    from core.models import Organization, Site

    org = Organization.objects.create(name="Elsewhere", mrn_prefix="EL")
    far = Site.objects.create(organization=org, name="Far", code="far", time_zone="UTC")
    stranger = make_staff("stranger", "counselor", sites=[far])
    stranger.staff.organization = org
    stranger.staff.save()
    client.force_login(stranger)
    assert client.get(_url(group_session)).status_code == 404


def test_front_desk_may_not_open_the_group_note(client, frontdesk, group_session):
    client.force_login(frontdesk)
    assert client.get(_url(group_session)).status_code == 403
    assert client.post(_url(group_session), _form()).status_code == 403
    assert not GroupNote.objects.exists()


def test_a_patient_gets_404(client, patient, group_session):
    client.force_login(patient.user)
    assert client.get(_url(group_session)).status_code == 404


def test_signing_from_the_screen_writes_the_notes(client, counselor, group_session, six_attendees):
    client.force_login(counselor)
    client.post(_url(group_session), _form())
    response = client.post(_url(group_session, "records:group_sign"), follow=True)
    assert "a locked note is in 5 charts" in response.content.decode()
    assert ProgressNote.objects.filter(group_note__session=group_session).count() == 5


def test_sign_without_attendance_shows_a_clear_message(
    client, counselor, group_session, make_attendees
):
    make_attendees(2)
    client.force_login(counselor)
    client.post(_url(group_session), _form())
    response = client.post(_url(group_session, "records:group_sign"), follow=True)
    assert "Take attendance first" in response.content.decode()
    assert GroupNote.objects.get().status == RecordStatus.DRAFT
    assert not ProgressNote.objects.exists()


def test_the_sign_button_asks_for_confirmation(client, counselor, group_session, six_attendees):
    client.force_login(counselor)
    client.post(_url(group_session), _form())
    body = client.get(_url(group_session)).content.decode()
    assert 'data-confirm="This writes a locked note into 5 charts.' in body


def test_a_signed_group_note_refuses_a_save_post(client, counselor, group_session, six_attendees):
    group = _signed(counselor, group_session)
    client.force_login(counselor)
    first = six_attendees[0]
    response = client.post(
        _url(group_session), _form([(first, "Changed later")], shared_text="Rewritten")
    )
    assert response.status_code == 422
    assert "signed and can no longer be changed" in response.content.decode()
    group.refresh_from_db()
    assert group.shared_text == "The original shared part."
    assert not GroupNoteEntry.objects.exists()
    assert set(ProgressNote.objects.values_list("shared_text", flat=True)) == {
        "The original shared part."
    }


def test_a_signed_group_note_refuses_a_second_sign_post(
    client, counselor, group_session, six_attendees
):
    group = _signed(counselor, group_session)
    signed_at = group.signed_at
    client.force_login(counselor)
    response = client.post(_url(group_session, "records:group_sign"), follow=True)
    assert "already signed" in response.content.decode()
    group.refresh_from_db()
    assert group.signed_at == signed_at
    assert ProgressNote.objects.count() == 5


def test_a_signed_group_note_reads_back_with_each_attendees_note(
    client, counselor, group_session, six_attendees
):
    _signed(counselor, group_session)
    client.force_login(counselor)
    body = client.get(_url(group_session)).content.decode()
    assert 'data-testid="group-signed"' in body
    assert "<textarea" not in body
    assert "No note: absent." in body


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_the_database_refuses_an_update_of_a_signed_group_note(
    counselor, group_session, six_attendees
):
    group = _signed(counselor, group_session)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE records_groupnote SET shared_text = 'forged' WHERE id = %s", [group.pk]
        )
    group.refresh_from_db()
    assert group.shared_text == "The original shared part."


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_the_database_refuses_a_part_of_a_signed_group_note(
    counselor, group_session, six_attendees
):
    group_note_save(
        actor=counselor,
        session=group_session,
        topic="",
        service_type=ServiceType.GROUP_COUNSELING,
        shared_text="Shared",
        entries={six_attendees[0].pk: "Original part"},
    )
    group = group_note_sign(actor=counselor, session=group_session)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE records_groupnoteentry SET text = 'forged' WHERE group_note_id = %s",
            [group.pk],
        )
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO records_groupnoteentry (group_note_id, patient_id, text) "
            "VALUES (%s, %s, 'added')",
            [group.pk, six_attendees[1].pk],
        )
    assert list(GroupNoteEntry.objects.values_list("text", flat=True)) == ["Original part"]


def _screen_queries(client, counselor, session, django_assert_num_queries, expected):
    client.force_login(counselor)
    client.get(_url(session))  # warm the session and the user's caches
    with django_assert_num_queries(expected):
        assert client.get(_url(session)).status_code == 200


def _draft_with(n, *, track, make_attendees, counselor, test_now):
    from datetime import timedelta

    session = make_group_session(track, test_now - timedelta(hours=2, minutes=n))
    people = make_attendees(n)
    for i, p in enumerate(people):
        mark(session, p, AttendanceStatus.UNEXCUSED if i == 0 else AttendanceStatus.PRESENT)
    group_note_save(
        actor=counselor,
        session=session,
        topic="",
        service_type=ServiceType.GROUP_COUNSELING,
        shared_text="Shared",
        entries={p.pk: "Part" for p in people[1:]},
    )
    return session


# The login session, user and staff profile, the session (access rule) with its group note,
# attendance with its patients, the roster's memberships, the draft's parts or the signed
# notes, the view's audit row (an insert: no lock since #20) and the page's nav: the same for
# 3 attendees and for 12. 10 before the staff member's sites were read once a request
# (core.access.staff_sites): the access rule and the page read them apart.
SCREEN_QUERIES = 9


@pytest.mark.parametrize("size", [3, 12])
def test_group_note_screen_query_count_does_not_grow(
    client, counselor, track, make_attendees, test_now, django_assert_num_queries, size
):
    session = _draft_with(
        size, track=track, make_attendees=make_attendees, counselor=counselor, test_now=test_now
    )
    _screen_queries(client, counselor, session, django_assert_num_queries, SCREEN_QUERIES)


@pytest.mark.parametrize("size", [3, 12])
def test_signed_group_note_screen_query_count_does_not_grow(
    client, counselor, track, make_attendees, test_now, django_assert_num_queries, size
):
    session = _draft_with(
        size, track=track, make_attendees=make_attendees, counselor=counselor, test_now=test_now
    )
    group_note_sign(actor=counselor, session=session)
    _screen_queries(client, counselor, session, django_assert_num_queries, SCREEN_QUERIES)


def test_the_attendance_sheet_links_to_the_group_note_and_sign_in_sheet(
    client, counselor, group_session, six_attendees
):
    client.force_login(counselor)
    body = client.get(reverse("scheduling:attendance", args=[group_session.pk])).content.decode()
    assert _url(group_session) in body
    assert _url(group_session, "records:signin_sheet") in body


def test_the_front_desk_sees_only_the_sign_in_sheet_link(client, frontdesk, group_session):
    client.force_login(frontdesk)
    body = client.get(reverse("scheduling:attendance", args=[group_session.pk])).content.decode()
    assert _url(group_session) not in body
    assert _url(group_session, "records:signin_sheet") in body


def test_the_facilitators_home_lists_an_unsigned_group(client, counselor, group_session):
    client.force_login(counselor)
    body = client.get(reverse("home")).content.decode()
    assert 'data-testid="panel-group-notes-owed"' in body
    assert _url(group_session) in body
