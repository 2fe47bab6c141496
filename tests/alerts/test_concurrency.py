"""Two workers reconciling the same patient at once make one row per cause: the second
waits on the patient's lock, then finds the first one's rows."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction

from alerts.models import Alert
from alerts.services import alerts_reconcile
from tests.conftest import SCENARIO_NOW, wait_for

pytestmark = [pytest.mark.frozen(SCENARIO_NOW)]


def _waiting_on_a_lock() -> bool:
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


@pytest.mark.django_db(transaction=True)
def test_two_workers_raising_the_same_alerts_make_one_row_each(patient, drug_test):
    drug_test(patient, results={"cocaine": "positive"})
    first_holds_the_lock = threading.Event()
    second_is_waiting = threading.Event()
    raised: dict[str, int] = {}
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with transaction.atomic():
                raised["first"] = alerts_reconcile(patient_ids=[patient.pk]).raised
                first_holds_the_lock.set()
                assert second_is_waiting.wait(timeout=30)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    def second() -> None:
        try:
            assert first_holds_the_lock.wait(timeout=30)
            raised["second"] = alerts_reconcile(patient_ids=[patient.pk]).raised
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    first_holds_the_lock.wait(timeout=30)
    # The second worker is blocked on the patient's row lock (a state, not a timer).
    wait_for(_waiting_on_a_lock, timeout=30)
    second_is_waiting.set()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert raised["first"] > 0 and raised["second"] == 0
    keys = list(Alert.objects.values_list("key", flat=True))
    assert len(keys) == len(set(keys)) == raised["first"]
    assert Alert.objects.filter(rule="drug_test_findings").count() == 1
