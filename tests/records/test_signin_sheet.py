"""The printable sign-in sheet of a group session: the roster with a signature line
each, the session's particulars on the site's clock, a print stylesheet, an audit row."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from core.models import AuditEvent
from records.models import ServiceType
from records.services.groups import group_note_save

from ._groups_fixtures import *  # noqa: F403  (the fixtures)

pytestmark = pytest.mark.django_db


def _url(session):
    return reverse("records:signin_sheet", args=[session.pk])


def test_the_sheet_lists_every_rostered_patient_with_a_signature_line(
    client, counselor, group_session, make_attendees
):
    people = make_attendees(4)  # on the track's roster, attendance not taken yet
    client.force_login(counselor)
    body = client.get(_url(group_session)).content.decode()
    table = body[body.index('data-testid="sheet-roster"') :]
    for p in people:
        assert p.display_name in table
    assert table.count('class="signin-signature"><span class="visually-hidden">') == 4


def test_the_sheet_names_site_date_time_topic_and_facilitator(
    client, counselor, group_session, make_attendees
):
    make_attendees(1)
    client.force_login(counselor)
    body = client.get(_url(group_session)).content.decode()
    assert "Northside" in body
    assert "Triggers and coping plans" in body
    assert str(counselor) in body
    local = group_session.starts_at.astimezone(group_session.site.tz)
    assert local.strftime("%-I:%M") in body  # the site's clock, not UTC


def test_the_sheet_shows_the_group_notes_topic_once_written(
    client, counselor, group_session, six_attendees
):
    group_note_save(
        actor=counselor,
        session=group_session,
        topic="Cravings at weekends",
        service_type=ServiceType.GROUP_COUNSELING,
        shared_text="",
        entries={},
    )
    client.force_login(counselor)
    assert "Cravings at weekends" in client.get(_url(group_session)).content.decode()


def test_the_sheet_has_a_print_stylesheet_and_a_print_button(client, counselor, group_session):
    client.force_login(counselor)
    body = client.get(_url(group_session)).content.decode()
    assert "css/signin-sheet.css" in body
    assert 'data-testid="print-button"' in body and "js/records-groups.js" in body
    css = (Path(settings.BASE_DIR) / "static/css/signin-sheet.css").read_text()
    printed = css[css.index("@media print") :]
    assert re.search(r"\.no-print[^{]*\{\s*display: none", printed)
    assert "page-break-inside: avoid" in printed and "color: #000" in printed


def test_viewing_the_sheet_writes_an_audit_row(client, counselor, group_session, make_attendees):
    make_attendees(3)
    client.force_login(counselor)
    client.get(_url(group_session))
    row = AuditEvent.objects.get(action="records.signin_sheet.view")
    assert row.actor == counselor and row.detail == {"patients": 3}


def test_the_front_desk_prints_the_sheet(client, frontdesk, group_session):
    client.force_login(frontdesk)
    assert client.get(_url(group_session)).status_code == 200


def test_a_colleague_at_the_site_prints_the_sheet(client, other_counselor, group_session):
    client.force_login(other_counselor)
    assert client.get(_url(group_session)).status_code == 200


def test_another_sites_counselor_gets_404_and_an_audit_row(
    client, outside_counselor, group_session
):
    client.force_login(outside_counselor)
    assert client.get(_url(group_session)).status_code == 404
    assert AuditEvent.objects.filter(actor=outside_counselor, outcome="denied").exists()
    assert not AuditEvent.objects.filter(action="records.signin_sheet.view").exists()


def test_a_patient_gets_404(client, patient, group_session):
    client.force_login(patient.user)
    assert client.get(_url(group_session)).status_code == 404
