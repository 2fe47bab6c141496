"""Seed a clinic network of a given size for benchmarks, with bulk inserts.

    DJANGO_SETTINGS_MODULE=bench.settings python manage.py seed_scale --patients 5000 --weeks 26

Builds on the demo's organisation shape (staff users as in seed_demo, sites, phases,
tracks), then N active patients spread over the sites and W weeks of history from each
app's seeder in this package (``patients``, then ``scheduling``, ``drugtests``,
``recovery``, ``records``, ``measures`` and ``contingency``). Meant for an empty
benchmark database. The seeders bypass the services on purpose (benchmark data, written
in bulk; ``contingency`` says why it does not); they live here, not in the apps, so that
no benchmark code ships with Stepwise.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from core.demo import DemoContext, seed_core
from core.models import Site, User

BENCH_PASSWORD = "bench-password-2026"  # noqa: S105 - the seeded staff of a throwaway database


class ScaleContext:
    """What every seeder reads: the demo's organisation and staff, the size, the dates."""

    def __init__(self, demo: DemoContext, patients: int, weeks: int, today: date) -> None:
        self.demo = demo
        self.organization = demo.organization
        self.sites: list[Site] = list(Site.objects.filter(organization=demo.organization))
        self.staff: dict[str, User] = demo.staff
        self.patient_count = patients
        self.weeks = weeks
        self.today = today
        self.start = today - timedelta(weeks=weeks)
        self.now: datetime = demo.now
        self.rng: random.Random = demo.rng
        self.log: list[str] = []


def _history_seeders() -> list[tuple[str, Callable[[ScaleContext], None]]]:
    # Imported here: each seeder imports its app's models, which need the app registry.
    from bench.scale import contingency, drugtests, measures, records, recovery, scheduling

    return [
        ("scheduling", scheduling.seed_scale),
        ("drugtests", drugtests.seed_scale),
        ("recovery", recovery.seed_scale),
        ("records", records.seed_scale),
        ("measures", measures.seed_scale),
        ("contingency", contingency.seed_scale),
    ]


def seed_scale(
    *,
    patients: int,
    weeks: int,
    password: str = BENCH_PASSWORD,
    report: Callable[[str], object] = lambda line: None,
) -> None:
    """Seed ``patients`` active patients with ``weeks`` weeks of history, in one
    transaction; ``report`` receives one line per step (timings, then each seeder's log)."""
    # Looked up on the module when called, so an experiment can wrap the patient seeder
    # (bench/seed_groups.py does).
    from bench.scale import patients as patient_seeder
    from drugtests import demo as drugtests_demo
    from patients import demo as patients_demo
    from recovery import demo as recovery_demo
    from scheduling import demo as scheduling_demo

    started = time.monotonic()
    with transaction.atomic():
        demo = seed_core(password, timezone.now())
        for app_demo in (patients_demo, scheduling_demo, drugtests_demo, recovery_demo):
            app_demo.seed_setup(demo)
        ctx = ScaleContext(demo, patients, weeks, timezone.localdate())
        patient_seeder.seed_patients(ctx)
        report(f"patients: {time.monotonic() - started:.1f} s")
        for app, seeder in _history_seeders():
            t0 = time.monotonic()
            seeder(ctx)
            report(f"{app}: {time.monotonic() - t0:.1f} s")
    for line in ctx.log:
        report(line)
    report(f"Seeded {patients} patients x {weeks} weeks in {time.monotonic() - started:.1f} s")
