"""The benchmark seeder's clinical-record hook, at a small size (40 patients x 8 weeks):
its rows obey the records' constraints and triggers, and give the queue and the chart
something of every kind."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from records.models import (
    GroupNote,
    NoteKind,
    PlanVersion,
    ProgressNote,
    RecordStatus,
    Signature,
    TreatmentPlan,
)
from scheduling.models import ATTENDED_STATUSES, Attendance

pytestmark = pytest.mark.django_db


@pytest.fixture
def scaled():
    from bench.scale import ScaleContext
    from bench.scale.patients import seed_patients
    from bench.scale.records import seed_scale as records_scale
    from bench.scale.scheduling import seed_scale as scheduling_scale
    from core.demo import seed_core
    from scheduling import demo

    core = seed_core("bench-password-2026", timezone.now())
    demo.seed_setup(core)
    ctx = ScaleContext(core, 40, 8, timezone.localdate())
    seed_patients(ctx)
    scheduling_scale(ctx)
    records_scale(ctx)
    return ctx


def test_every_active_episode_has_a_plan_signed_or_in_progress(scaled):
    plans = TreatmentPlan.objects.all()
    assert plans.count() >= 40
    for plan in plans.prefetch_related("versions"):
        assert plan.versions.all()
    assert PlanVersion.objects.filter(number__gt=1, status=RecordStatus.SIGNED).exists()
    assert PlanVersion.objects.filter(status=RecordStatus.DRAFT).exists()
    assert PlanVersion.objects.filter(requires_cosign=True, status=RecordStatus.SIGNED).exists()


def test_individual_notes_span_drafts_waiting_and_cosigned(scaled):
    notes = ProgressNote.objects.filter(kind=NoteKind.INDIVIDUAL)
    statuses = set(notes.values_list("status", flat=True))
    assert statuses == {RecordStatus.DRAFT, RecordStatus.SIGNED, RecordStatus.COSIGNED}
    assert notes.filter(requires_cosign=True, status=RecordStatus.SIGNED).exists()
    signed = notes.exclude(status=RecordStatus.DRAFT)
    assert Signature.objects.filter(note__in=signed, role="author").count() == signed.count()


def test_each_present_attendee_of_a_noted_group_has_their_own_note(scaled):
    groups = GroupNote.objects.all()
    assert groups.exists()
    for group in groups[:5]:
        present = Attendance.objects.filter(session=group.session, status__in=ATTENDED_STATUSES)
        notes = ProgressNote.objects.filter(group_note=group)
        assert sorted(notes.values_list("patient_id", flat=True)) == sorted(
            present.values_list("patient_id", flat=True)
        )
        for note in notes.select_related("attendance"):
            assert note.minutes == note.attendance.minutes_credited


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the triggers are PostgreSQL's")
def test_the_seeded_signed_notes_are_locked_like_any_other(scaled):
    from django.db import IntegrityError, transaction

    note = ProgressNote.objects.filter(status=RecordStatus.SIGNED).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        ProgressNote.objects.filter(pk=note.pk).update(response="changed")
