"""The daily sweep: default schedules per site, due sittings made once, unanswered ones
expired so only one is ever open, a discharge sitting, the beat entry."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from core.models import AuditEvent, Site
from measures.models import Administration, MeasureSchedule
from measures.services.schedules import administrations_make_due
from patients.services.enrollment import enrollment_change_level

pytestmark = pytest.mark.django_db


def _open(patient):
    return sorted(
        Administration.objects.filter(
            patient=patient, status__in=["due", "in_progress"]
        ).values_list("instrument__code", "reason")
    )


def test_a_new_site_gets_the_clinical_default_schedules(site):
    rows = {
        (s.instrument_code, s.level): (s.every_days, s.at_admission, s.at_discharge)
        for s in MeasureSchedule.objects.filter(site=site)
    }
    assert rows[("bam", "2.1")] == (7, False, False)
    assert rows[("bam", "2.5")] == (7, False, False)
    assert rows[("bam", "1.0")] == (30, False, False)
    assert rows[("phq9", "2.1")] == (30, True, True)
    assert rows[("gad7", "1.0")] == (30, True, True)
    assert len(rows) == 9


def test_a_site_whose_creation_rolls_back_leaves_no_schedules(org):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        Site.objects.create(organization=org, name="Gone", code="gone", time_zone="UTC")
        raise RuntimeError
    assert not MeasureSchedule.objects.filter(site__code="gone").exists()


def test_admission_day_makes_phq9_and_gad7_due(make_patient, site, today, test_now):
    patient = make_patient(admitted=today)
    assert administrations_make_due(site=site, now=test_now) == 2
    assert _open(patient) == [("gad7", "admission"), ("phq9", "admission")]


def test_the_sweep_is_idempotent(make_patient, site, today, test_now):
    make_patient(admitted=today)
    administrations_make_due(site=site, now=test_now)
    assert administrations_make_due(site=site, now=test_now) == 0
    assert administrations_make_due(site=site, now=test_now + timedelta(hours=3)) == 0
    assert Administration.objects.count() == 2


def test_weekly_bam_in_iop_on_the_seventh_day(make_patient, site, today, test_now):
    patient = make_patient(admitted=today - timedelta(days=7), level="2.1")
    administrations_make_due(site=site, now=test_now)
    assert ("bam", "scheduled") in _open(patient)
    assert Administration.objects.get(patient=patient, instrument__code="bam").due_on == today


def test_op_patient_gets_no_bam_on_the_seventh_day(make_patient, site, today, test_now):
    patient = make_patient(admitted=today - timedelta(days=7), level="1.0")
    administrations_make_due(site=site, now=test_now)
    assert not Administration.objects.filter(patient=patient, instrument__code="bam").exists()


def test_an_unanswered_bam_expires_when_the_next_falls_due(make_patient, site, today, test_now):
    patient = make_patient(admitted=today - timedelta(days=14), level="2.1")
    administrations_make_due(site=site, now=test_now - timedelta(days=7))
    first = Administration.objects.get(patient=patient, instrument__code="bam")
    administrations_make_due(site=site, now=test_now)
    first.refresh_from_db()
    assert first.status == Administration.Status.EXPIRED
    assert list(
        Administration.objects.filter(
            patient=patient, instrument__code="bam", status="due"
        ).values_list("due_on", flat=True)
    ) == [today]
    assert AuditEvent.objects.filter(
        action="measures.administration_expired", object_id=str(first.pk)
    ).exists()


def test_a_level_change_moves_bam_to_the_new_cadence(
    make_patient, site, today, test_now, counselor
):
    patient = make_patient(admitted=today - timedelta(days=21), level="2.1")
    enrollment_change_level(
        actor=counselor,
        enrollment=patient.enrollments.get(),
        level="1.0",
        effective_date=today - timedelta(days=1),
        reason="Stepped down",
        now=test_now - timedelta(days=1),
    )
    administrations_make_due(site=site, now=test_now)
    assert not Administration.objects.filter(patient=patient, instrument__code="bam").exists()


def test_discharge_makes_the_discharge_sittings_and_expires_the_others(
    make_patient, site, today, test_now, counselor
):
    from patients.services.enrollment import enrollment_discharge

    patient = make_patient(admitted=today - timedelta(days=14), level="2.1")
    administrations_make_due(site=site, now=test_now)
    assert ("bam", "scheduled") in _open(patient)
    enrollment_discharge(
        actor=counselor,
        enrollment=patient.enrollments.get(),
        discharge_date=today,
        discharge_type="completed",
        aftercare_plan="Weekly outpatient group",
        now=test_now,
    )
    administrations_make_due(site=site, now=test_now + timedelta(hours=1))
    assert _open(patient) == [("gad7", "discharge"), ("phq9", "discharge")]


def test_the_all_sites_sweep_waits_for_the_sites_morning(make_patient, site, today, test_now):
    from core.clock import local_datetime

    make_patient(admitted=today)
    early = local_datetime(today, time(5, 0), site.tz)
    assert administrations_make_due(now=early) == 0
    later = local_datetime(today, time(7, 0), site.tz)
    assert administrations_make_due(now=later) == 2


def test_the_beat_runs_the_sweep_hourly_and_the_task_is_acks_late(settings):
    from measures.tasks import make_due

    entries = {e["task"]: e for e in settings.CELERY_BEAT_SCHEDULE.values()}
    entry = entries["measures.tasks.make_due"]
    assert entry["options"]["expires"] <= 60 * 60
    assert make_due.acks_late is True
