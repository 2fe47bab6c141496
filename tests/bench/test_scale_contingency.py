"""The benchmark seeder's contingency hook, at a small size (40 patients x 3 weeks).

One test: what it checks is one behaviour, that the seeded ledger is the service's own
(every counted test of an enrolled patient has one entry, running totals add up, the
bench patient has an episode)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from contingency.models import CMEnrollment, LedgerEntry

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="benchmark data needs PostgreSQL"),
]


@pytest.fixture
def scaled():
    from bench.scale import ScaleContext
    from bench.scale.contingency import seed_scale as cm_scale
    from bench.scale.drugtests import seed_scale as drug_scale
    from bench.scale.patients import seed_patients
    from core.demo import seed_core
    from drugtests import demo as drug_demo
    from scheduling import demo as scheduling_demo

    core = seed_core("bench-password-2026", timezone.now())
    for demo in (scheduling_demo, drug_demo):
        demo.seed_setup(core)
    ctx = ScaleContext(core, 40, 3, timezone.localdate())
    seed_patients(ctx)
    drug_scale(ctx)
    cm_scale(ctx)
    return ctx


def test_seeded_ledger_is_the_services_own(scaled):
    assert CMEnrollment.objects.filter(patient__user__username="scale_patient1").exists()
    entries = LedgerEntry.objects.order_by("enrollment", "seq")
    assert entries.filter(kind="earned", amount__gt=0).exists()
    balance: dict[int, Decimal] = {}
    for entry in entries:
        balance[entry.enrollment_id] = balance.get(entry.enrollment_id, Decimal(0)) + entry.amount
        assert entry.balance == balance[entry.enrollment_id]
        assert entry.episode_total <= entry.episode_cap
    counted = entries.filter(kind__in=["earned", "not_earned"])
    assert counted.values("selection").distinct().count() == counted.count()
