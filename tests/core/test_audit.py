import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from core import audit
from core.models import AuditEvent


@pytest.fixture
def trail(db):
    return [audit.record(action=f"test.{i}", patient_id=i) for i in range(1, 6)]


def test_chain_of_untouched_rows_verifies(trail):
    assert list(audit.verify_chain()) == []
    call_command("verify_audit")


def test_changed_field_is_named_by_verify_audit(trail, capsys):
    AuditEvent.objects.filter(seq=3).update(patient_id=999)
    with pytest.raises(CommandError, match="first at row 3"):
        call_command("verify_audit")
    assert "audit row 3: was changed" in capsys.readouterr().err


def test_deleted_row_is_named_as_a_gap(trail):
    AuditEvent.objects.filter(seq=2).delete()
    problems = list(audit.verify_chain())
    assert problems[0].seq == 2
    assert "missing" in problems[0].problem


def test_rows_chain_to_their_predecessor(trail):
    rows = list(AuditEvent.objects.order_by("seq"))
    assert rows[0].prev_hash == audit.GENESIS
    for before, after in zip(rows, rows[1:], strict=False):
        assert after.prev_hash == before.hash
