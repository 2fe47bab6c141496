"""``manage.py seed_scale --patients N --weeks W``: see bench.scale. Registered only under
bench.settings, the settings the benchmark scripts run with."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from bench.scale import BENCH_PASSWORD, seed_scale


class Command(BaseCommand):
    help = "Seed N active patients and W weeks of history with bulk inserts (benchmarks)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--patients", type=int, required=True)
        parser.add_argument("--weeks", type=int, default=26)
        parser.add_argument("--password", default=BENCH_PASSWORD)

    def handle(self, *args: Any, patients: int, weeks: int, password: str, **options: Any) -> None:
        if patients < 1 or weeks < 1:
            raise CommandError("--patients and --weeks must be at least 1")
        seed_scale(patients=patients, weeks=weeks, password=password, report=self.stdout.write)
