import random
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from core.demo import DemoContext
from drugtests import demo
from drugtests.models import Draw, Selection, TestAlert, TestingPolicy
from patients.models import ProgramPhase
from patients.services.medication import medication_order_create
from tests.conftest import SCENARIO_NOW

pytestmark = [pytest.mark.frozen(SCENARIO_NOW), pytest.mark.django_db]


@pytest.fixture
def ctx(org, site, other_site, phases, collector, nurse, make_patient):
    for n in (1, 2, 3):
        ProgramPhase.objects.create(site=other_site, number=n, name=f"Phase {n}")
    now = timezone.now()
    admitted = timezone.localdate(now, site.tz) - timedelta(days=60)
    patients = [make_patient(phase=phases[i % 3], admitted=admitted) for i in range(9)]
    for p in patients[:3]:
        medication_order_create(
            actor=nurse,
            patient=p,
            medication="buprenorphine_naloxone",
            dose="16 mg",
            frequency="daily",
            prescriber="Dr. A",
            start_date=admitted,
        )
    return DemoContext(
        organization=org,
        sites={"riverside": site, "bayview": other_site},
        staff={"collector": collector, "nurse": nurse},
        password="x",
        now=now,
        rng=random.Random(7),  # noqa: S311 - demo data
        patients=patients,
    )


def test_demo_seeds_policies_draws_and_results_that_verify(ctx):
    demo.seed_setup(ctx)
    assert TestingPolicy.objects.filter(site=ctx.sites["riverside"]).count() == 4
    demo.seed(ctx)
    assert Draw.objects.filter(site=ctx.sites["riverside"]).count() >= demo.WEEKS * 7
    assert Selection.objects.filter(status="collected").exists()
    assert TestAlert.objects.filter(kind="prescribed_absent").exists()
    out = StringIO()
    call_command("verify_draws", stdout=out)
    assert "every chain is intact" in out.getvalue()
    before = Draw.objects.count()
    demo.seed_setup(ctx)
    demo.seed(ctx)
    assert Draw.objects.count() == before
