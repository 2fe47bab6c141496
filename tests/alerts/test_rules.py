"""Each rule's alert is one row per cause, raised by its event (on commit) or by the
sweep, and resolved when the cause goes away."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from alerts.models import Alert, AlertState
from alerts.services import alerts_reconcile, alerts_sweep
from core.models import AuditEvent
from drugtests.models import TestAlert
from drugtests.services.results import alert_resolve
from patients.services.medication import (
    medication_order_create,
    medication_order_set_injection_due,
)
from tests.conftest import SCENARIO_NOW
from tests.dashboard.conftest import NY, WED, WEEK

pytestmark = [pytest.mark.frozen(SCENARIO_NOW), pytest.mark.django_db]


def _rows(kind: str) -> list[Alert]:
    return list(Alert.objects.filter(kind=kind).order_by("pk"))


def _order(nurse, patient, due):
    return medication_order_create(
        actor=nurse,
        patient=patient,
        medication="naltrexone_xr",
        dose="380 mg",
        frequency="monthly",
        prescriber="Dr. Adler",
        start_date=WEEK - timedelta(days=60),
        next_injection_due=due,
    )


# --- drug tests: one alert per positive test ----------------------------------------


def test_positive_test_raises_exactly_one_alert_on_commit(events, patient, drug_test):
    with events():
        drug_test(patient, results={"fentanyl": "positive"})
    (row,) = Alert.objects.filter(rule="drug_test_findings")
    assert row.kind == "drugtest_opioid_positive" and row.state == AlertState.OPEN
    assert TestAlert.objects.count() == 1


def test_resolving_the_finding_resolves_the_alert_on_commit(
    events, patient, drug_test, director, test_now
):
    with events():
        drug_test(patient, results={"cocaine": "positive"})
    with events():
        alert_resolve(actor=director, alert=TestAlert.objects.get(), note="Discussed")
    (row,) = _rows("drugtest_unexpected_positive")
    assert row.state == AlertState.RESOLVED and row.resolved_at is not None


def test_positive_test_raised_and_resolved_by_the_sweep(patient, drug_test, director):
    drug_test(patient, results={"cocaine": "positive"})
    alerts_sweep()
    alerts_sweep()
    assert len(_rows("drugtest_unexpected_positive")) == 1
    alert_resolve(actor=director, alert=TestAlert.objects.get(), note="Discussed")
    alerts_sweep()
    assert _rows("drugtest_unexpected_positive")[0].state == AlertState.RESOLVED


# --- injections ---------------------------------------------------------------------


def test_injection_due_raised_and_resolved_by_events(events, patient, nurse, today):
    with events():
        order = _order(nurse, patient, today + timedelta(days=2))
    assert [a.state for a in _rows("injection_due")] == [AlertState.OPEN]
    with events():
        medication_order_set_injection_due(
            actor=nurse, order=order, next_injection_due=today + timedelta(days=30)
        )
    assert [a.state for a in _rows("injection_due")] == [AlertState.RESOLVED]


def test_a_cause_that_comes_back_reopens_its_row(patient, nurse, today):
    due = today + timedelta(days=2)
    order = _order(nurse, patient, due)
    alerts_sweep()
    medication_order_set_injection_due(
        actor=nurse, order=order, next_injection_due=today + timedelta(days=30)
    )
    alerts_sweep()
    medication_order_set_injection_due(actor=nurse, order=order, next_injection_due=due)
    alerts_sweep()
    (row,) = _rows("injection_due")
    assert row.state == AlertState.OPEN and row.resolved_at is None


# --- attendance not taken -------------------------------------------------------------


@pytest.fixture
def member(make_patient, track):
    return make_patient(first="Robin", last="Owner", track=track)


def test_attendance_not_taken_is_raised_for_the_facilitator_and_resolved_by_the_mark(
    events, member, week_sessions, attend, track
):
    alerts_sweep()
    # Of the week's sessions, the one within the last seven days is still owed.
    (row,) = _rows("attendance_not_taken")
    last = week_sessions[-1]
    assert row.key == f"attendance_not_taken:{last.pk}:{member.pk}"
    assert row.owner_id == track.default_facilitator_id and row.patient_id == member.pk
    with events():
        attend(last, member)
    assert _rows("attendance_not_taken")[0].state == AlertState.RESOLVED


def test_attendance_taken_is_resolved_by_the_sweep(member, week_sessions, attend):
    alerts_sweep()
    attend(week_sessions[-1], member, status="unexcused")
    alerts_sweep()
    assert [r.state for r in _rows("attendance_not_taken")] == [AlertState.RESOLVED]


# --- schedule short -------------------------------------------------------------------


def test_schedule_short_raised_and_resolved_when_the_schedule_is_fixed(
    events, member, track, today
):
    from core.clock import local_datetime, week_start
    from scheduling.models import Session

    # Nothing is scheduled this week: the level's minimum cannot be reached.
    alerts_sweep()
    (row,) = _rows("schedule_short")
    assert row.state == AlertState.OPEN and "cannot be reached" in row.message
    monday = week_start(today)
    with events():
        for day in (monday, monday + timedelta(days=1), monday + timedelta(days=3)):
            Session.objects.create(
                site=track.site,
                track=track,
                local_date=day,
                starts_at=local_datetime(day, time(18), track.site.tz),
                ends_at=local_datetime(day, time(21), track.site.tz),
                kind="group",
                facilitator=track.default_facilitator,
                room=track.room,
                capacity=track.capacity,
                created_at=timezone.now(),
            )
    assert _rows("schedule_short")[0].state == AlertState.RESOLVED


# --- safety follow-up ---------------------------------------------------------------


def test_safety_followup_raised_and_resolved_by_events(events, counselor, patient, make_sitting):
    from measures.models import SafetyEvent
    from measures.services.safety import safety_followup_record
    from tests.measures._checkin_fixtures import WITH_ITEM9, complete

    with events():
        complete(make_sitting(patient), WITH_ITEM9)
    (row,) = _rows("safety_followup")
    assert row.state == AlertState.OPEN and not row.can_set_aside
    with events():
        safety_followup_record(
            actor=counselor,
            event=SafetyEvent.objects.get(),
            action=SafetyEvent.Action.values[0],
            note="Called; safety plan reviewed.",
        )
    assert _rows("safety_followup")[0].state == AlertState.RESOLVED


# --- notes owed ---------------------------------------------------------------------


def test_overdue_note_raised_by_the_sweep_and_resolved_when_signed(
    events, patient, counselor, make_note, today
):
    from records.services.notes import note_sign
    from tests.records._notes_fixtures import write_all

    note = make_note(patient, counselor, day=today - timedelta(days=10))
    alerts_sweep()
    (row,) = _rows("note_overdue")
    assert row.state == AlertState.OPEN
    with events():
        note_sign(actor=counselor, note=write_all(note, counselor), now=timezone.now())
    assert _rows("note_overdue")[0].state == AlertState.RESOLVED


# --- the batch ----------------------------------------------------------------------


def test_one_audit_row_per_batch_and_none_when_nothing_changed(patient, drug_test, nurse, today):
    drug_test(patient, results={"cocaine": "positive"})
    _order(nurse, patient, today + timedelta(days=1))
    alerts_reconcile(patient_ids=[patient.pk])
    assert AuditEvent.objects.filter(action="alerts.reconciled").count() == 1
    alerts_reconcile(patient_ids=[patient.pk])
    assert AuditEvent.objects.filter(action="alerts.reconciled").count() == 1


def test_the_events_of_one_transaction_queue_one_task(events, patient, drug_test):
    with events():
        from django.db import transaction

        with transaction.atomic():
            drug_test(patient, results={"cocaine": "positive"})
            drug_test(
                patient,
                now=datetime.combine(WEEK + timedelta(days=3), time(10), tzinfo=NY),
                results={"fentanyl": "positive"},
            )
    assert len(events.sent) == 1


def test_a_positive_test_is_notified_once(patient, drug_test):
    from notifications.models import Kind, Notification
    from notifications.sources.alerts import plan_alerts

    drug_test(patient, results={"fentanyl": "positive"})
    plan_alerts(now=WED + timedelta(hours=1))
    plan_alerts(now=WED + timedelta(hours=2))
    assert Notification.objects.filter(kind=Kind.STAFF_ALERT).count() == 1


def test_safety_followup_raised_by_the_sweep(counselor, patient, make_sitting):
    from tests.measures._checkin_fixtures import WITH_ITEM9, complete

    complete(make_sitting(patient), WITH_ITEM9)
    alerts_sweep()
    alerts_sweep()
    assert [r.state for r in _rows("safety_followup")] == [AlertState.OPEN]


def test_the_sweep_is_on_the_beat_every_15_minutes_and_expires_before_the_next(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["alerts-sweep"]
    assert entry["task"] == "alerts.tasks.alerts_sweep"
    assert entry["options"]["expires"] == 14 * 60


def test_the_sweep_task_reconciles(patient, drug_test):
    from alerts.tasks import alerts_sweep_task

    drug_test(patient, results={"cocaine": "positive"})
    assert alerts_sweep_task() > 0
    assert alerts_sweep_task() == 0
