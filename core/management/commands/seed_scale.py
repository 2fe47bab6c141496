"""Seed a clinic network of a given size for benchmarks, with bulk inserts.

    python manage.py seed_scale --patients 5000 --weeks 26

Builds on the demo's organisation shape (staff users as in seed_demo, sites, phases,
tracks), then N active patients spread over the sites and W weeks of history from each
app's ``scale.seed_scale(ctx)`` hook. Meant for an empty benchmark database.
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from importlib import import_module
from importlib.util import find_spec

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from core.demo import seed_core
from core.models import Site

SCALE_APPS = ("scheduling", "drugtests", "recovery", "notifications")


class ScaleContext:
    def __init__(self, demo, patients: int, weeks: int, today: date):
        self.demo = demo
        self.organization = demo.organization
        self.sites = list(Site.objects.filter(organization=demo.organization))
        self.staff = demo.staff
        self.patient_count = patients
        self.weeks = weeks
        self.today = today
        self.start = today - timedelta(weeks=weeks)
        self.now = demo.now
        self.rng = demo.rng
        self.log = []


class Command(BaseCommand):
    help = "Seed N active patients and W weeks of history with bulk inserts (benchmarks)."

    def add_arguments(self, parser):
        parser.add_argument("--patients", type=int, required=True)
        parser.add_argument("--weeks", type=int, default=26)
        parser.add_argument("--password", default="bench-password-2026")

    def handle(self, *args, patients: int, weeks: int, password: str, **options):
        if patients < 1 or weeks < 1:
            raise CommandError("--patients and --weeks must be at least 1")
        from patients.scale import seed_patients

        started = time.monotonic()
        with transaction.atomic():
            demo = seed_core(password, timezone.now())
            for app in ("patients", "scheduling", "drugtests", "recovery"):
                if find_spec(f"{app}.demo"):
                    hook = getattr(import_module(f"{app}.demo"), "seed_setup", None)
                    if hook:
                        hook(demo)
            ctx = ScaleContext(demo, patients, weeks, timezone.localdate())
            seed_patients(ctx)
            self.stdout.write(f"patients: {time.monotonic() - started:.1f} s")
            for app in SCALE_APPS:
                if find_spec(f"{app}.scale"):
                    t0 = time.monotonic()
                    import_module(f"{app}.scale").seed_scale(ctx)
                    self.stdout.write(f"{app}: {time.monotonic() - t0:.1f} s")
        for line in ctx.log:
            self.stdout.write(line)
        self.stdout.write(
            f"Seeded {patients} patients x {weeks} weeks in {time.monotonic() - started:.1f} s"
        )
