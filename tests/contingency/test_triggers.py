"""The database itself keeps the ledger append-only (PostgreSQL trigger) and under its
caps (check constraints), whatever code writes to it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from contingency.models import LedgerEntry
from contingency.services.ledger import selections_evaluate

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(episode, tester, episode_start):
    selections_evaluate(selection_ids=[tester.cup(episode_start).pk])
    return LedgerEntry.objects.get(enrollment=episode)


def postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's")


def test_the_database_refuses_an_update_of_a_ledger_row(entry):
    postgresql_only()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).update(amount=Decimal("26.50"))
    entry.refresh_from_db()
    assert entry.amount == Decimal("10.00")


def test_the_database_refuses_a_delete_of_a_ledger_row(entry):
    postgresql_only()
    with (
        pytest.raises(IntegrityError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM contingency_ledgerentry WHERE id = %s", [entry.pk])
    assert LedgerEntry.objects.filter(pk=entry.pk).exists()


def test_the_database_refuses_an_entry_above_the_episode_cap(entry, test_now, tester):
    second = tester.cup(entry.occurred_on)
    with pytest.raises(IntegrityError, match="cm_within_episode_cap"), transaction.atomic():
        LedgerEntry.objects.create(
            enrollment=entry.enrollment,
            patient=entry.patient,
            seq=2,
            kind=LedgerEntry.Kind.EARNED,
            reason=LedgerEntry.Reason.NEGATIVE,
            selection=second,
            occurred_on=entry.occurred_on,
            amount=Decimal("600.00"),
            episode_total=Decimal("610.00"),
            year=entry.year,
            year_total=Decimal("610.00"),
            balance=Decimal("610.00"),
            episode_cap=Decimal("599.00"),
            year_cap=Decimal("750.00"),
            created_at=test_now,
        )
    assert LedgerEntry.objects.count() == 1


def test_the_database_refuses_an_entry_above_the_year_cap(entry, test_now, tester):
    second = tester.cup(entry.occurred_on)
    with pytest.raises(IntegrityError, match="cm_within_year_cap"), transaction.atomic():
        LedgerEntry.objects.create(
            enrollment=entry.enrollment,
            patient=entry.patient,
            seq=2,
            kind=LedgerEntry.Kind.EARNED,
            reason=LedgerEntry.Reason.NEGATIVE,
            selection=second,
            occurred_on=entry.occurred_on,
            amount=Decimal("10.00"),
            episode_total=Decimal("20.00"),
            year=entry.year,
            year_total=Decimal("760.00"),
            balance=Decimal("20.00"),
            episode_cap=Decimal("599.00"),
            year_cap=Decimal("750.00"),
            created_at=test_now,
        )


def test_the_database_refuses_a_second_count_of_one_test(entry, test_now):
    # PostgreSQL names the index; SQLite names its columns.
    refused = "cm_test_counted_once|enrollment_id, contingency_ledgerentry.selection_id"
    with pytest.raises(IntegrityError, match=refused), transaction.atomic():
        LedgerEntry.objects.create(
            enrollment=entry.enrollment,
            patient=entry.patient,
            seq=2,
            kind=LedgerEntry.Kind.EARNED,
            reason=LedgerEntry.Reason.NEGATIVE,
            selection=entry.selection,
            occurred_on=entry.occurred_on,
            amount=Decimal("11.50"),
            episode_total=Decimal("21.50"),
            year=entry.year,
            year_total=Decimal("21.50"),
            balance=Decimal("21.50"),
            episode_cap=Decimal("599.00"),
            year_cap=Decimal("750.00"),
            created_at=test_now,
        )
