from contextlib import contextmanager

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.utils import DatabaseError

from core import audit
from core.models import AuditEvent


@pytest.fixture
def trail(db):
    return [audit.record(action=f"test.{i}", patient_id=i) for i in range(1, 6)]


@contextmanager
def tampering():
    """What an attacker with DDL rights would have to do first on PostgreSQL."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Deferred foreign-key checks would otherwise block the ALTER in this transaction.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE core_auditevent DISABLE TRIGGER core_auditevent_no_change")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute(
                    "ALTER TABLE core_auditevent ENABLE TRIGGER core_auditevent_no_change"
                )
    else:
        yield


def test_chain_of_untouched_rows_verifies(trail):
    assert list(audit.verify_chain()) == []
    call_command("verify_audit")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("patient_id", 999),
        ("action", "test.other"),
        ("actor_label", "someone"),
        ("outcome", "denied"),
        ("detail", {"x": 1}),
        ("ip", "10.0.0.1"),
    ],
)
def test_changed_field_is_named_by_verify_audit(trail, capsys, field, value):
    with tampering():
        AuditEvent.objects.filter(seq=3).update(**{field: value})
    with pytest.raises(CommandError, match="first at row 3"):
        call_command("verify_audit")
    assert "audit row 3: was changed" in capsys.readouterr().err


def test_deleted_row_is_named_as_a_gap(trail):
    with tampering():
        AuditEvent.objects.filter(seq=2).delete()
    problems = list(audit.verify_chain())
    assert problems[0].seq == 2
    assert "missing" in problems[0].problem


def test_rows_chain_to_their_predecessor(trail):
    rows = list(AuditEvent.objects.order_by("seq"))
    assert rows[0].prev_hash == audit.GENESIS
    for before, after in zip(rows, rows[1:], strict=False):
        assert after.prev_hash == before.hash


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_postgresql_trigger_refuses_update_and_delete(trail):
    for attempt in (
        lambda: AuditEvent.objects.filter(seq=1).update(action="rewritten"),
        lambda: AuditEvent.objects.filter(seq=1).delete(),
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            attempt()
    assert AuditEvent.objects.get(seq=1).action == "test.1"
