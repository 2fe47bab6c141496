import threading
from contextlib import contextmanager

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections, transaction
from django.db.utils import DatabaseError
from django.test.utils import CaptureQueriesContext

from core import audit
from core.models import AuditEvent

K1 = "k1-first-audit-key-of-the-tests-0123456789"
K2 = "k2-second-audit-key-of-the-tests-0123456789"


@pytest.fixture
def trail(db):
    rows = [audit.record(action=f"test.{i}", patient_id=i) for i in range(1, 6)]
    audit.seal()
    return [AuditEvent.objects.get(pk=r.pk) for r in rows]


@pytest.fixture
def keyring(settings):
    """Point the keyring at k1 only; returns a function that rotates it."""

    def use(*pairs: tuple[str, str]) -> None:
        settings.AUDIT_KEYS = dict(pairs)
        settings.AUDIT_CURRENT_KEY_ID = pairs[0][0]

    use(("k1", K1))
    return use


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


def _verify(capsys) -> tuple[str, str]:
    call_command("verify_audit")
    out = capsys.readouterr()
    return out.out, out.err


def test_append_takes_no_lock_and_leaves_the_row_unsealed(db):
    with CaptureQueriesContext(connection) as queries:
        event = audit.record(action="test.append")
    assert not [q for q in queries.captured_queries if "advisory" in q["sql"]]
    event.refresh_from_db()
    assert (event.seq, event.prev_hash, event.hash) == (None, None, None)
    assert event.key_id == "test"
    assert event.row_mac == audit.compute_row_mac(event)


def test_seal_chains_rows_in_id_order(db):
    ids = [audit.record(action=f"test.{i}").pk for i in range(4)]
    assert audit.seal() == 4
    rows = list(AuditEvent.objects.order_by("seq"))
    assert [r.pk for r in rows] == ids
    assert [r.seq for r in rows] == [1, 2, 3, 4]
    assert rows[0].prev_hash == audit.GENESIS
    for before, after in zip(rows, rows[1:], strict=False):
        assert after.prev_hash == before.hash


def test_seal_continues_the_chain_and_is_idempotent(db):
    audit.record(action="test.a")
    audit.seal()
    audit.record(action="test.b")
    assert audit.seal(batch_size=1) == 1
    assert audit.seal() == 0
    first, second = AuditEvent.objects.order_by("seq")
    assert (second.seq, second.prev_hash) == (2, first.hash)


def test_seal_in_small_batches_seals_every_row(db):
    for i in range(7):
        audit.record(action=f"test.{i}")
    assert audit.seal(batch_size=3) == 7
    assert not AuditEvent.objects.filter(seq__isnull=True).exists()
    assert list(audit.verify_chain()) == []


def test_chain_of_untouched_rows_verifies(trail, capsys):
    audit.record(action="test.unsealed")
    out, _ = _verify(capsys)
    assert "6 rows verified (5 sealed, 1 not yet sealed)" in out
    assert "keys used: test (6 rows)" in out


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("patient_id", 999),
        ("action", "test.other"),
        ("actor_label", "someone"),
        ("outcome", "denied"),
        ("detail", {"x": 1}),
        ("ip", "10.0.0.1"),
        ("key_id", "legacy"),
    ],
)
def test_changed_sealed_row_is_named_by_verify_audit(trail, capsys, field, value):
    target = trail[2]
    with tampering():
        AuditEvent.objects.filter(pk=target.pk).update(**{field: value})
    with pytest.raises(CommandError, match=f"altered: 1 problem.*first at row {target.pk}$"):
        call_command("verify_audit")
    assert f"audit row {target.pk}: was changed" in capsys.readouterr().err


def test_changed_unsealed_row_is_named_by_verify_audit(db, capsys):
    event = audit.record(action="test.unsealed", patient_id=1)
    with tampering():
        AuditEvent.objects.filter(pk=event.pk).update(patient_id=2)
    with pytest.raises(CommandError, match=f"first at row {event.pk}"):
        call_command("verify_audit")


def test_reordered_seal_is_named(trail):
    a, b = trail[1], trail[2]
    with tampering():
        AuditEvent.objects.filter(pk=a.pk).update(seq=10_000)
        AuditEvent.objects.filter(pk=b.pk).update(seq=a.seq)
        AuditEvent.objects.filter(pk=a.pk).update(seq=b.seq)
    problems = list(audit.verify_chain())
    assert problems and problems[0].row == b.pk


def test_deleted_sealed_row_is_named_as_a_gap(trail):
    with tampering():
        AuditEvent.objects.filter(pk=trail[1].pk).delete()
    problems = list(audit.verify_chain())
    assert problems[0].row == trail[2].pk
    assert "seq 2..2 are missing" in problems[0].problem


def test_rotated_key_mid_trail_verifies_and_names_both_keys(db, keyring, capsys):
    for i in range(3):
        audit.record(action=f"test.k1.{i}")
    audit.seal()
    audit.record(action="test.k1.unsealed")
    keyring(("k2", K2), ("k1", K1))
    for i in range(2):
        audit.record(action=f"test.k2.{i}")
    audit.seal()
    assert list(AuditEvent.objects.order_by("seq").values_list("key_id", flat=True)) == [
        "k1",
        "k1",
        "k1",
        "k1",
        "k2",
        "k2",
    ]
    out, err = _verify(capsys)
    assert "keys used: k1 (4 rows), k2 (2 rows)" in out
    assert "6 rows verified (6 sealed, 0 not yet sealed)" in out
    assert err == ""


def test_row_under_a_missing_key_is_unverifiable_not_changed(db, keyring, capsys):
    audit.record(action="test.k1")
    audit.seal()
    keyring(("k2", K2))  # k1 dropped from the keyring
    audit.record(action="test.k2")
    with pytest.raises(CommandError) as raised:
        call_command("verify_audit")
    message = str(raised.value)
    assert message == "audit trail unverifiable: key(s) missing from AUDIT_KEYS: k1 (1 rows)"
    err = capsys.readouterr().err
    assert "unverifiable: key 'k1'" in err and "changed" not in err


def test_seal_stops_before_a_row_under_a_missing_key(db, keyring):
    first = audit.record(action="test.k1")
    keyring(("k2", K2), ("k1", K1))
    audit.record(action="test.k2")
    keyring(("k2", K2))
    with pytest.raises(audit.AuditKeyMissing):
        audit.seal()
    assert list(AuditEvent.objects.filter(seq__isnull=False).values_list("pk", flat=True)) == []
    keyring(("k2", K2), ("k1", K1))
    assert audit.seal() == 2
    assert AuditEvent.objects.get(seq=1).pk == first.pk


def test_rows_from_before_the_keyring_verify_under_the_legacy_key(db, capsys):
    # What core 0012 leaves of a trail written by the single-key scheme.
    legacy = AuditEvent(action="test.legacy", key_id="legacy", seq=1, prev_hash=audit.GENESIS)
    legacy.at = audit.timezone.now()
    legacy.hash = audit.compute_legacy_hash(legacy)
    legacy.save(force_insert=True)
    audit.record(action="test.new")
    audit.seal()
    assert AuditEvent.objects.get(seq=2).prev_hash == legacy.hash
    out, _ = _verify(capsys)
    assert "keys used: legacy (1 rows), test (1 rows)" in out


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_postgresql_trigger_refuses_update_and_delete(trail):
    first = trail[0]
    for attempt in (
        lambda: AuditEvent.objects.filter(pk=first.pk).update(action="rewritten"),
        lambda: AuditEvent.objects.filter(pk=first.pk).delete(),
        lambda: AuditEvent.objects.filter(pk=first.pk).update(seq=99, hash="f" * 64),
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            attempt()
    assert AuditEvent.objects.get(pk=first.pk).action == "test.1"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_postgresql_trigger_allows_only_the_seal_on_an_unsealed_row(db):
    event = audit.record(action="test.unsealed")
    rows = AuditEvent.objects.filter(pk=event.pk)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        rows.update(seq=1, prev_hash=audit.GENESIS, hash="f" * 64, action="rewritten")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        rows.update(row_mac="0" * 64)
    assert audit.seal() == 1
    assert rows.get().seq == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="advisory locks are PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_a_second_sealer_leaves_the_work_to_the_one_holding_the_lock():
    audit.record(action="test.waiting")
    holder = connections.create_connection("default")
    try:
        with holder.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [audit._LOCK_KEY])
        assert audit.seal(wait=False) == 0
        with holder.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [audit._LOCK_KEY])
        assert audit.seal(wait=False) == 1
    finally:
        holder.close()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_are_all_sealed_and_the_chain_verifies():
    writers, per_writer = 6, 25
    errors: list[BaseException] = []
    start = threading.Barrier(writers + 1)

    def write(n: int) -> None:
        try:
            start.wait()
            for i in range(per_writer):
                with transaction.atomic():
                    audit.record(action=f"test.w{n}", patient_id=i)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    def sealer() -> None:
        try:
            start.wait()
            for _ in range(20):
                audit.seal(batch_size=7)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    threads.append(threading.Thread(target=sealer))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    audit.seal()
    assert AuditEvent.objects.filter(seq__isnull=False).count() == writers * per_writer
    assert not AuditEvent.objects.filter(seq__isnull=True).exists()
    assert list(audit.verify_chain()) == []


def test_seal_audit_command_seals_and_says_how_many(db, capsys):
    audit.record(action="test.one")
    call_command("seal_audit")
    assert capsys.readouterr().out.strip() == "sealed 1 audit rows"
    assert not AuditEvent.objects.filter(seq__isnull=True).exists()


def test_beat_seals_every_five_seconds_with_an_expiry_before_the_next(settings):
    from core.tasks import seal_audit

    entry = next(
        e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "core.tasks.seal_audit"
    )
    assert entry["schedule"].total_seconds() == 5
    assert entry["options"]["expires"] < 5
    assert seal_audit.acks_late is True


def test_seal_task_seals(db):
    from core.tasks import seal_audit

    audit.record(action="test.task")
    seal_audit()
    assert AuditEvent.objects.get().seq == 1


def test_verify_audit_names_the_first_twenty_problems_then_counts_the_rest(db, keyring, capsys):
    for i in range(23):
        audit.record(action=f"test.{i}")
    keyring(("k2", K2))
    with pytest.raises(CommandError, match=r"k1 \(23 rows\)$"):
        call_command("verify_audit")
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 21 and err[-1] == "... and 3 more"
