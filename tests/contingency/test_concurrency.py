"""Two results of one patient counted at the same moment never pass a cap (PostgreSQL:
the row lock on the patient's episodes serialises them)."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction

from contingency.models import LedgerEntry
from contingency.services.ledger import selections_evaluate
from tests.conftest import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def needs_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("row locks and concurrent transactions need PostgreSQL")


def waiting_on_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return int(cursor.fetchone()[0])


def test_two_tests_counted_at_once_stop_at_the_episode_cap_and_count_once_each(
    program, episode, tester, episode_start, no_publish
):
    program.episode_cap = Decimal("25.00")
    program.save()
    first = tester.cup(episode_start)
    selections_evaluate(selection_ids=[first.pk])  # 10.00 of 25.00
    a_test = tester.cup(episode_start + timedelta(days=3))
    b_test = tester.cup(episode_start + timedelta(days=4))

    a_counted = threading.Event()
    a_may_commit = threading.Event()
    errors: list[BaseException] = []

    def a() -> None:
        try:
            with transaction.atomic():
                selections_evaluate(selection_ids=[a_test.pk])
                a_counted.set()  # A holds the lock and has appended, not committed
                assert a_may_commit.wait(30)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
            a_counted.set()
        finally:
            connection.close()

    def b() -> None:
        try:
            assert a_counted.wait(30)
            selections_evaluate(selection_ids=[b_test.pk])
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in threads:
        t.start()
    try:
        # B is inside its transaction, blocked on the lock A holds: both are "at once".
        wait_for(lambda: waiting_on_a_lock() >= 1)
    finally:
        a_may_commit.set()
        for t in threads:
            t.join(30)
    assert errors == []
    rows = list(
        LedgerEntry.objects.filter(enrollment=episode)
        .order_by("seq")
        .values_list("selection_id", "amount", "episode_total")
    )
    # A: step 2, 11.50 (21.50); B after A's commit: step 3 would be 13.00, cut to the
    # remaining 3.50 (25.00).
    assert rows == [
        (first.pk, Decimal("10.00"), Decimal("10.00")),
        (a_test.pk, Decimal("11.50"), Decimal("21.50")),
        (b_test.pk, Decimal("3.50"), Decimal("25.00")),
    ]
