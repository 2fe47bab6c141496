"""The benchmark seeder's measures hook, at a small size (40 patients x 8 weeks).

One test: seeding takes ~10 s, and what it checks is one behaviour, that the seeded rows
are what the services would have written (scores agree with answers, a safety event
for each item-9 answer, the bench patient's sitting due)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from measures import scoring
from measures.models import Administration, SafetyEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def scaled():
    from bench.scale import ScaleContext
    from bench.scale.measures import seed_scale as measures_scale
    from bench.scale.patients import seed_patients
    from core.demo import seed_core
    from scheduling import demo

    core = seed_core("bench-password-2026", timezone.now())
    demo.seed_setup(core)
    ctx = ScaleContext(core, 40, 8, timezone.localdate())
    seed_patients(ctx)
    measures_scale(ctx)
    return ctx


def test_seeded_sittings_are_what_the_services_would_write(scaled):
    done = Administration.objects.filter(status="completed").select_related("instrument")
    assert done.count() >= 80
    for sitting in done.prefetch_related("answers__item")[:30]:
        answers = {a.item.number: a.value for a in sitting.answers.all()}
        assert sitting.total == scoring.score(sitting.instrument.scoring, answers).total
    assert SafetyEvent.objects.filter(followup_at__isnull=True).exists()
    for event in SafetyEvent.objects.select_related("administration"):
        assert event.administration.answers.get(item__number=9).value == event.value > 0
    assert Administration.objects.filter(
        patient__user__username="scale_patient1", status="due", instrument__code="phq9"
    ).exists()
