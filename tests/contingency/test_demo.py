"""The demo's CM step: a program at Riverside, six episodes at the promised points of the
schedule, every amount from real results, consistent running totals, idempotent."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from contingency import demo as cm_demo
from contingency.models import CMEnrollment, LedgerEntry, Program
from contingency.selectors.ledger import episode_state, unreconciled_issues
from core.demo import DemoContext
from drugtests import demo as drugtests_demo
from patients.models import ProgramPhase
from tests.conftest import SCENARIO_NOW

# make_patient records admissions at the scenarios' instant (as drugtests' demo test).
pytestmark = [pytest.mark.frozen(SCENARIO_NOW), pytest.mark.django_db]


@pytest.fixture
def ctx(org, site, other_site, phases, counselor, collector, nurse, make_patient):
    for n in (1, 2, 3):
        ProgramPhase.objects.create(site=other_site, number=n, name=f"Phase {n}")
    now = timezone.now()
    today = timezone.localdate(now, site.tz)
    patients = [
        make_patient(phase=phases[0], admitted=today - timedelta(days=days))
        for days in (70, 60, 45, 30, 20, 10)
    ]
    context = DemoContext(
        organization=org,
        sites={"riverside": site, "bayview": other_site},
        staff={"collector": collector, "nurse": nurse, "counselor": counselor},
        password="x",
        now=now,
        rng=random.Random(7),  # noqa: S311 - demo data
        patients=patients,
    )
    drugtests_demo.seed_setup(context)
    drugtests_demo.seed(context)
    return context


@pytest.fixture
def seeded(ctx):
    cm_demo.seed(ctx)


def states(site) -> list[tuple[CMEnrollment, object]]:
    return [(e, episode_state(e)) for e in CMEnrollment.objects.filter(program__site=site)]


def test_the_demo_enrolls_six_patients_on_a_default_program(ctx, seeded):
    program = Program.objects.get(site=ctx.sites["riverside"])
    assert (program.start_amount, program.episode_cap) == (Decimal("10.00"), Decimal("599.00"))
    assert CMEnrollment.objects.filter(program=program, status="active").count() == 6


def test_the_demo_has_a_fresh_episode_one_mid_run_and_one_near_the_cap(ctx, seeded):
    got = states(ctx.sites["riverside"])
    assert any(s.last_entry is None and s.next_step == 1 for _, s in got)
    # The demo aims at step 8; the random draws (other patients' ids, other outcomes from
    # one seed to the next) can leave a drawn test it did not foresee, so the test asks
    # for a run well under way rather than the exact step.
    assert any(s.next_step >= 5 and 0 < s.episode_total < cm_demo.NEAR_CAP for _, s in got)
    assert any(s.episode_total >= cm_demo.NEAR_CAP for _, s in got)


def test_the_demo_has_an_episode_just_reset_by_a_positive(ctx, seeded):
    last_tests = [
        LedgerEntry.objects.filter(enrollment=e, selection__isnull=False).order_by("-seq").first()
        for e, _ in states(ctx.sites["riverside"])
    ]
    assert any(
        t is not None and t.reason == "positive" and t.next_step == 1 and t.restore_step > 1
        for t in last_tests
    )


def test_the_demo_has_rewards_reconciled_and_not(ctx, seeded):
    issued = LedgerEntry.objects.filter(kind="issued")
    assert issued.count() == 2
    assert LedgerEntry.objects.filter(kind="reconciled", related__in=issued).count() == 1
    assert unreconciled_issues(ctx.sites["riverside"]).count() == 1


def test_every_demo_ledger_adds_up(ctx, seeded):
    for episode in CMEnrollment.objects.all():
        total = balance = Decimal("0.00")
        for entry in LedgerEntry.objects.filter(enrollment=episode).order_by("seq"):
            if entry.kind in ("earned", "reversal"):
                total += entry.amount
            balance += entry.amount
            assert (entry.episode_total, entry.balance) == (total, balance), entry
            assert entry.episode_total <= entry.episode_cap
            if entry.kind in ("earned", "not_earned"):
                assert (
                    entry.selection is not None and entry.selection.patient_id == episode.patient_id
                )


def test_the_demo_step_runs_once(ctx, seeded):
    before = LedgerEntry.objects.count()
    cm_demo.seed(ctx)
    assert LedgerEntry.objects.count() == before
    assert Program.objects.count() == 1
