"""Planning the MAT injection reminder: 3 days before at 09:00 site time, DST-correct,
re-planned on change, cancelled on stop or discharge, idempotent, and nothing planned
when the write that would plan it rolls back."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction

from notifications import outbox, planning, receivers, sending, tasks
from notifications.models import Channel, Kind, Notification, Status
from notifications.sources import medication
from patients.models import MedicationOrder
from patients.services.enrollment import enrollment_discharge
from patients.services.medication import (
    medication_order_create,
    medication_order_set_injection_due,
    medication_order_stop,
)

UTC = ZoneInfo("UTC")
NY = ZoneInfo("America/New_York")

pytestmark = pytest.mark.django_db


@pytest.fixture
def pt(make_patient, patient_email):
    return patient_email


def make_order(patient, nurse, due: date, start: date = date(2026, 1, 2)):
    return medication_order_create(
        actor=nurse,
        patient=patient,
        medication="buprenorphine_xr",
        dose="300 mg",
        frequency="monthly",
        prescriber="Dr. Example",
        start_date=start,
        next_injection_due=due,
    )


def rows(order, **filters):
    return Notification.objects.filter(
        kind=Kind.INJECTION_DUE,
        object_type="patients.MedicationOrder",
        object_id=order.pk,
        **filters,
    )


@pytest.mark.parametrize(
    ("injection_due", "expected_utc"),
    [
        # 2026-03-08 (spring forward): 09:00 EDT is 13:00 UTC.
        (date(2026, 3, 11), datetime(2026, 3, 8, 13, 0, tzinfo=UTC)),
        # 2026-11-01 (fall back): 09:00 EST is 14:00 UTC.
        (date(2026, 11, 4), datetime(2026, 11, 1, 14, 0, tzinfo=UTC)),
    ],
)
def test_nine_am_reminder_is_sent_at_the_right_utc_instant_on_dst_change_days(
    pt, nurse, injection_due, expected_utc, monkeypatch
):
    monkeypatch.setattr(outbox, "enqueue_send", lambda ids: None)
    order = make_order(pt, nurse, injection_due)
    medication.plan_medication_order(order.pk, now=datetime(2026, 1, 5, tzinfo=UTC))
    email = rows(order, channel=Channel.EMAIL).get()
    assert email.due_at == expected_utc
    assert email.due_at.astimezone(NY).hour == 9
    just_before = expected_utc - timedelta(seconds=1)
    assert email.pk not in outbox.notifications_dispatch_due(now=just_before)
    assert (
        sending.notification_send(notification_id=email.pk, claim_token="x", now=just_before)
        == "not-claimed"
    )
    assert email.pk in outbox.notifications_dispatch_due(now=expected_utc)
    assert (
        sending.notification_send(notification_id=email.pk, claim_token="x", now=expected_utc)
        == "sent"
    )


def test_plan_is_idempotent(pt, nurse):
    order = make_order(pt, nurse, date(2026, 12, 10))
    now = datetime(2026, 12, 1, tzinfo=UTC)
    first = medication.plan_medication_order(order.pk, now=now)
    again = medication.plan_medication_order(order.pk, now=now)
    planning.replan_all(now=now)
    assert first["created"] == 2 and again == {"created": 0, "revived": 0, "cancelled": 0}
    assert rows(order).count() == 2
    assert set(rows(order).values_list("channel", flat=True)) == {Channel.EMAIL, Channel.IN_APP}


def test_changed_injection_date_cancels_old_reminder_and_plans_new_one(pt, nurse):
    order = make_order(pt, nurse, date(2026, 12, 10))
    now = datetime(2026, 12, 1, tzinfo=UTC)
    medication.plan_medication_order(order.pk, now=now)
    medication_order_set_injection_due(
        actor=nurse, order=order, next_injection_due=date(2026, 12, 17)
    )
    medication.plan_medication_order(order.pk, now=now)
    assert rows(order, status=Status.CANCELLED).count() == 2
    pending = rows(order, status=Status.PENDING)
    assert pending.count() == 2
    assert {r.due_at.astimezone(NY).date() for r in pending} == {date(2026, 12, 14)}


def test_changing_the_date_back_revives_the_cancelled_reminder(pt, nurse):
    order = make_order(pt, nurse, date(2026, 12, 10))
    now = datetime(2026, 12, 1, tzinfo=UTC)
    medication.plan_medication_order(order.pk, now=now)
    for due in (date(2026, 12, 17), date(2026, 12, 10)):
        medication_order_set_injection_due(actor=nurse, order=order, next_injection_due=due)
        medication.plan_medication_order(order.pk, now=now)
    assert rows(order).count() == 4
    assert {r.due_at.astimezone(NY).date() for r in rows(order, status=Status.PENDING)} == {
        date(2026, 12, 7)
    }


def test_stopping_the_order_cancels_the_reminder(pt, nurse):
    order = make_order(pt, nurse, date(2026, 12, 10))
    now = datetime(2026, 12, 1, tzinfo=UTC)
    medication.plan_medication_order(order.pk, now=now)
    medication_order_stop(
        actor=nurse, order=order, stop_date=date(2026, 12, 2), reason="side effects"
    )
    medication.plan_medication_order(order.pk, now=now)
    assert rows(order, status=Status.PENDING).count() == 0
    assert rows(order, status=Status.CANCELLED).count() == 2


def test_discharge_cancels_every_pending_reminder_of_the_patient(pt, nurse, counselor):
    order = make_order(pt, nurse, date(2026, 12, 10))
    # Noon on Dec 1 in New York (00:00 UTC is still Nov 30 there, and a discharge dated
    # the next day would wait for it).
    now = datetime(2026, 12, 1, 17, tzinfo=UTC)
    medication.plan_medication_order(order.pk, now=now)
    enrollment = pt.enrollments.get()
    enrollment_discharge(
        actor=counselor,
        enrollment=enrollment,
        discharge_date=date(2026, 12, 1),
        discharge_type="completed",
        aftercare_plan="Weekly OP",
        now=now,
    )
    planning.plan_patient(pt.pk, now=now)
    assert rows(order, status=Status.PENDING).count() == 0
    assert rows(order, status=Status.CANCELLED).count() == 2


def test_sent_reminder_is_never_cancelled_by_a_replan(pt, nurse):
    order = make_order(pt, nurse, date(2026, 12, 10))
    now = datetime(2026, 12, 8, tzinfo=UTC)
    medication.plan_medication_order(order.pk, now=datetime(2026, 12, 1, tzinfo=UTC))
    email = rows(order, channel=Channel.EMAIL).get()
    sending.notification_send(notification_id=email.pk, claim_token="x", now=now)
    medication_order_stop(actor=nurse, order=order, stop_date=date(2026, 12, 8), reason="done")
    medication.plan_medication_order(order.pk, now=now)
    email.refresh_from_db()
    assert email.status == Status.SENT


def test_patient_without_portal_account_gets_no_reminder(make_patient, nurse):
    patient = make_patient(first="Nopo", portal=False)
    order = make_order(patient, nurse, date(2026, 12, 10))
    medication.plan_medication_order(order.pk, now=datetime(2026, 12, 1, tzinfo=UTC))
    assert not rows(order).exists()


def test_past_injection_date_plans_nothing(pt, nurse):
    order = make_order(pt, nurse, date(2026, 12, 10))
    medication.plan_medication_order(order.pk, now=datetime(2026, 12, 11, 12, tzinfo=UTC))
    assert not rows(order).exists()


# --- on commit ---------------------------------------------------------------


@pytest.fixture
def inline_tasks(monkeypatch):
    """Run the queued planning task in-process (there is no worker in these tests)."""
    monkeypatch.setattr(receivers, "_publish", lambda name, *args: getattr(tasks, name)(*args))


def test_order_write_plans_reminders_once_it_commits(
    pt, nurse, inline_tasks, django_capture_on_commit_callbacks
):
    due = date.today() + timedelta(days=20)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        order = make_order(pt, nurse, due, start=date.today())
        assert not rows(order).exists()  # nothing before the commit
    assert callbacks
    for callback in callbacks:
        callback()
    assert rows(order, status=Status.PENDING).count() == 2


def test_rolled_back_order_write_plans_nothing(
    pt, nurse, inline_tasks, django_capture_on_commit_callbacks
):
    due = date.today() + timedelta(days=20)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        make_order(pt, nurse, due, start=date.today())
        raise RuntimeError("the view failed after the write")
    assert callbacks == []
    assert not Notification.objects.filter(kind=Kind.INJECTION_DUE).exists()


def test_broker_outage_on_commit_does_not_break_the_write(
    pt, nurse, monkeypatch, django_capture_on_commit_callbacks
):
    def down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(tasks.plan_medication_order, "delay", down)
    with django_capture_on_commit_callbacks(execute=True):
        order = make_order(pt, nurse, date.today() + timedelta(days=20), start=date.today())
    assert order.pk  # the write stands; the hourly re-plan will plan it
    planning.replan_all()
    assert rows(order, status=Status.PENDING).count() == 2


def test_reminder_for_a_date_changed_after_dispatch_is_not_sent(pt, nurse):
    """The re-plan has not run yet, but the send re-checks the order."""
    order = make_order(pt, nurse, date(2026, 12, 10))
    medication.plan_medication_order(order.pk, now=datetime(2026, 12, 1, tzinfo=UTC))
    email = rows(order, channel=Channel.EMAIL).get()
    MedicationOrder.objects.filter(pk=order.pk).update(next_injection_due=date(2026, 12, 20))
    outcome = sending.notification_send(notification_id=email.pk, claim_token="x", now=email.due_at)
    assert outcome == "cancelled: no longer applies"
