"""Migration records 0003: each session's old free-text group note becomes a draft group
note (its text kept, the facilitator its author, marked migrated), with an audit row.

The column is gone by the time the tests run (scheduling 0008), so the tests call the
migration's data function with the rows it would read, on today's models."""

from __future__ import annotations

import importlib
import io

import pytest
from django.apps import apps
from django.db.migrations.loader import MigrationLoader

from core.models import AuditEvent
from records.models import GroupNote, RecordStatus

from ._groups_fixtures import *  # noqa: F403  (the fixtures)

pytestmark = pytest.mark.django_db

migration = importlib.import_module("records.migrations.0003_group_notes_from_sessions")


def _row(session, text):
    return (session.pk, text, session.facilitator_id, session.topic, session.site_id)


def test_the_old_text_becomes_a_migrated_draft(counselor, group_session):
    text = "Reviewed triggers; role-played refusal skills."
    written = migration.carry_over(apps, [_row(group_session, text)], out=io.StringIO())
    assert written == 1
    group = GroupNote.objects.get(session=group_session)
    assert group.shared_text == text and group.migrated
    assert group.status == RecordStatus.DRAFT and group.signed_at is None
    assert group.author == counselor
    assert group.topic == group_session.topic


def test_a_session_without_a_facilitator_keeps_its_text_unattributed(group_session):
    group_session.facilitator = None
    group_session.save()
    migration.carry_over(apps, [_row(group_session, "Text")], out=io.StringIO())
    assert GroupNote.objects.get().author is None


def test_each_carried_note_has_an_audit_row(group_session):
    migration.carry_over(apps, [_row(group_session, "Text")], out=io.StringIO())
    row = AuditEvent.objects.get(action="data.group_note_migrated")
    assert row.actor_label == migration.NAME and row.site_id == group_session.site_id
    assert row.detail["session"] == group_session.pk


def test_a_second_run_changes_nothing(group_session):
    rows = [_row(group_session, "Text")]
    migration.carry_over(apps, rows, out=io.StringIO())
    assert migration.carry_over(apps, rows, out=io.StringIO()) == 0
    assert GroupNote.objects.count() == 1


def test_the_column_is_dropped_only_after_the_text_is_carried():
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    before = graph.forwards_plan(("scheduling", "0008_remove_session_group_note"))
    assert ("records", "0003_group_notes_from_sessions") in before
