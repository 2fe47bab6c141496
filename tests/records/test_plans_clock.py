"""The review clock with frozen time: the initial plan due 7 days after admission, a
review every 30 days in IOP (14 in PHP) after the last signature, and sooner after a
change of level of care (issue #17, "Treatment plans")."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from patients.models import Enrollment
from records.clocks import PlanDueReason
from records.models import RecordSettings
from records.selectors.common import plans_due
from records.services.plans import plan_sign, plan_start

from . import _plans_fixtures as fx

pytestmark = pytest.mark.django_db


def _due(patient):
    return plans_due(Enrollment.objects.filter(pk=fx.open_enrollment(patient).pk))[0]


def test_initial_plan_is_due_seven_days_after_admission(make_patient, today):
    patient = make_patient(admitted=today - timedelta(days=3))
    due = _due(patient)
    assert (due.due.due_on, due.due.reason) == (today + timedelta(days=4), PlanDueReason.INITIAL)
    assert not due.has_plan


def test_an_unsigned_initial_plan_goes_overdue(make_patient, counselor, today):
    patient = make_patient(admitted=today - timedelta(days=10))
    fx.fill_draft(
        counselor, plan_start(actor=counselor, enrollment=fx.open_enrollment(patient)), today
    )
    due = _due(patient)
    assert due.overdue(today) and due.due.due_on == today - timedelta(days=3)


def test_iop_review_is_due_thirty_days_after_signing(make_patient, counselor, today, test_now):
    patient = make_patient(level="2.1", admitted=today - timedelta(days=40))
    version = fx.fill_draft(
        counselor, plan_start(actor=counselor, enrollment=fx.open_enrollment(patient)), today
    )
    signed_at = test_now - timedelta(days=35)
    plan_sign(actor=counselor, version=version, now=signed_at)
    due = _due(patient)
    assert due.due.reason == PlanDueReason.REVIEW
    assert due.due.due_on == today - timedelta(days=5)
    assert due.overdue(today)


def test_php_review_is_due_fourteen_days_after_signing(make_patient, counselor, today):
    patient = make_patient(level="2.5", admitted=today - timedelta(days=5))
    version = fx.fill_draft(
        counselor, plan_start(actor=counselor, enrollment=fx.open_enrollment(patient)), today
    )
    plan_sign(actor=counselor, version=version)
    assert _due(patient).due.due_on == today + timedelta(days=14)


def test_the_sites_own_review_days_apply(make_patient, counselor, today, site):
    RecordSettings.objects.create(site=site, review_days_iop=21)
    patient = make_patient(level="2.1", admitted=today - timedelta(days=5))
    version = fx.fill_draft(
        counselor, plan_start(actor=counselor, enrollment=fx.open_enrollment(patient)), today
    )
    plan_sign(actor=counselor, version=version)
    assert _due(patient).due.due_on == today + timedelta(days=21)


def test_a_level_change_brings_the_review_forward(  # IOP to OP: 30 days either way
    make_patient, counselor, today, test_now
):
    from patients.services.enrollment import enrollment_change_level

    patient = make_patient(level="2.1", admitted=today - timedelta(days=20))
    version = fx.fill_draft(
        counselor, plan_start(actor=counselor, enrollment=fx.open_enrollment(patient)), today
    )
    plan_sign(actor=counselor, version=version, now=test_now - timedelta(days=10))
    assert _due(patient).due.due_on == today + timedelta(days=20)
    with time_machine.travel(test_now + timedelta(days=2), tick=False):
        enrollment_change_level(
            actor=counselor,
            enrollment=fx.open_enrollment(patient),
            level="1.0",
            effective_date=today + timedelta(days=2),
            reason="Stepped down to OP",
        )
    due = _due(patient)
    assert due.due.reason == PlanDueReason.LEVEL_CHANGE
    assert due.due.due_on == today + timedelta(days=2 + 7)


def test_signing_the_review_restarts_the_clock(make_patient, counselor, today, test_now):
    from records.services.plans import plan_review_start

    patient = make_patient(level="2.1", admitted=today - timedelta(days=40))
    version = fx.fill_draft(
        counselor, plan_start(actor=counselor, enrollment=fx.open_enrollment(patient)), today
    )
    plan_sign(actor=counselor, version=version, now=test_now - timedelta(days=35))
    assert _due(patient).overdue(today)
    review = plan_review_start(actor=counselor, plan=version.plan)
    plan_sign(actor=counselor, version=review)
    due = _due(patient)
    assert due.due.due_on == today + timedelta(days=30) and not due.overdue(today)
