"""Time the daily random draw for one site with 10,000 eligible patients.

Usage (a scratch database: the script migrates it and leaves its data there; each run
commits, so the time includes the deferred foreign-key checks at commit):

    createdb -h 127.0.0.1 -U postgres stepwise_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/stepwise_bench \\
        .venv/bin/python bench/bench_draw.py [--patients 10000] [--runs 5]

Each run draws a different day (a new draw, chained to the previous one): the time
covers the eligible-pool query, seed and commitment, the frozen pool and its hash,
10,000 HMACs, inserting the pool rows and the selections, and the audit anchor.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
os.environ.setdefault("DEBUG", "1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from core.models import Organization, Site
    from drugtests.models import TestingPolicy
    from drugtests.services import draw_run
    from patients.models import Enrollment, Patient

    timings = []
    stamp = timezone.now().strftime("%Y%m%d%H%M%S%f")
    with transaction.atomic():
        org = Organization.objects.create(name=f"Bench org {stamp}", mrn_prefix="BN")
        site = Site.objects.create(
            organization=org, name="Bench", code="bench", time_zone="America/New_York"
        )
        TestingPolicy.objects.create(
            site=site,
            name="Every weekday, 2 per week",
            frequency=2,
            period="week",
            collection_days="01234",
            panel=["fentanyl"],
        )
        patients = Patient.objects.bulk_create(
            [
                Patient(
                    organization=org,
                    site=site,
                    mrn=f"BN{i:07d}",
                    legal_first_name="Bench",
                    legal_last_name=f"P{i}",
                    date_of_birth=date(1990, 1, 1),
                    primary_substance="opioids",
                )
                for i in range(args.patients)
            ],
            batch_size=2000,
        )
        Enrollment.objects.bulk_create(
            [
                Enrollment(patient=p, site=site, level="2.1", admission_date=date(2026, 1, 5))
                for p in patients
            ],
            batch_size=2000,
        )
    first_monday = date(2026, 3, 2)
    weekdays = (first_monday + timedelta(days=d) for d in range(10 * args.runs))
    days = [d for d in weekdays if d.weekday() < 5][: args.runs]
    for run, on in enumerate(days):
        now = datetime.combine(on, datetime.min.time(), tzinfo=site.tz) + timedelta(hours=6)
        start = time.perf_counter()
        result = draw_run(site=site, on=on, now=now)  # its own transaction, committed
        elapsed = time.perf_counter() - start
        timings.append(elapsed)
        print(
            f"run {run + 1}: {on} pool {result.draw.pool_size} "
            f"selected {result.draw.selected_count} in {elapsed * 1000:.0f} ms"
        )
    print(
        f"{connection.vendor}: draw over {args.patients} eligible patients: "
        f"median {statistics.median(timings) * 1000:.0f} ms, "
        f"best {min(timings) * 1000:.0f} ms, worst {max(timings) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
