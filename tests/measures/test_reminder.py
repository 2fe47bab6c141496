"""The neutral check-in reminder, through the real outbox: planned once per sitting,
sent with the exact neutral text, cancelled when the sitting is done."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest

from core.clock import local_datetime
from measures.models import Administration
from measures.services.schedules import administrations_make_due
from notifications import privacy, sending
from notifications.models import Kind, Notification, Status
from notifications.sources.checkins import plan_checkins

pytestmark = pytest.mark.django_db


@pytest.fixture
def admitted_today(make_patient, today):
    return make_patient(first="Ada", admitted=today, portal=True)


@pytest.fixture
def morning(site, today) -> datetime:
    return local_datetime(today, time(7, 0), site.tz)


def _rows(patient):
    return Notification.objects.filter(kind=Kind.CHECKIN_DUE, patient=patient)


def test_a_due_check_in_gets_one_reminder_per_sitting(admitted_today, site, morning):
    administrations_make_due(site=site, now=morning)
    plan_checkins(now=morning)
    plan_checkins(now=morning + timedelta(hours=1))  # the hourly re-plan adds nothing
    sittings = Administration.objects.filter(patient=admitted_today)
    assert sittings.count() == 2
    assert sorted(_rows(admitted_today).values_list("object_id", flat=True)) == sorted(
        s.pk for s in sittings
    )
    assert all(s.reminded_at == morning for s in sittings)


def test_the_reminder_is_sent_with_the_neutral_text_at_ten(admitted_today, site, today, morning):
    administrations_make_due(site=site, now=morning)
    plan_checkins(now=morning)
    ten = local_datetime(today, time(10, 0), site.tz)
    row = _rows(admitted_today).first()
    assert row.deliver_after == ten
    outcomes = sending.notifications_send_batch(
        notification_ids=[row.pk], claim_token="t", now=ten + timedelta(minutes=1)
    )
    row.refresh_from_db()
    assert row.status == Status.SENT, outcomes
    assert row.body == "You have a short check-in to complete"
    assert privacy.violations(row.subject + row.body) == []


def test_a_completed_check_in_cancels_its_pending_reminder(
    admitted_today, site, morning, instruments
):
    from measures.services.administrations import (
        administration_complete,
        administration_start,
        answer_save,
    )

    administrations_make_due(site=site, now=morning)
    plan_checkins(now=morning)
    sitting = Administration.objects.get(patient=admitted_today, instrument__code="gad7")
    user = admitted_today.user
    sitting = administration_start(actor=user, administration=sitting, mode="portal", now=morning)
    for item in sitting.instrument.items.all():
        answer_save(actor=user, administration=sitting, item=item, value=0, now=morning)
    administration_complete(actor=user, administration=sitting, now=morning)
    plan_checkins(now=morning + timedelta(minutes=5))
    row = _rows(admitted_today).get(object_id=sitting.pk)
    assert row.status == Status.CANCELLED


def test_a_patient_without_a_portal_account_gets_no_reminder(make_patient, site, today, morning):
    patient = make_patient(admitted=today, portal=False)
    administrations_make_due(site=site, now=morning)
    plan_checkins(now=morning)
    assert not _rows(patient).exists()
    assert not Administration.objects.filter(patient=patient, reminded_at__isnull=False).exists()
