"""Draw benchmark for ``make bench``: the daily draw over N eligible patients (default
10,000) in a fresh database, with its writes committed, against two floors measured in
the same run:

- ``hmac_floor``: the 10,000 HMAC-SHA256 computations alone (pure CPU, the draw's
  unavoidable work), so the ratio shows what the database part costs;
- ``commit_floor``: an empty transaction that takes the same site row lock and commits.

    python bench/draw.py [--patients 10000] [--runs 5] [--json bench/out/draw.json]

The timed call is ``drugtests.services.random_draw.draw_run``: freezing and hashing the pool, the
per-patient HMACs, inserting pool rows and selections, chaining to the previous draw and
its audit row, all committed. Each run draws another weekday.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB = "stepwise_bench_draw"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.child:
        from pages import env_for, recreate_database

        recreate_database(DB)
        env = env_for(DB)
        cmd = [sys.executable, __file__, "--child", "--patients", str(args.patients)]
        cmd += ["--runs", str(args.runs)] + (["--json", str(args.json)] if args.json else [])
        sys.exit(subprocess.run(cmd, env=env, cwd=ROOT).returncode)
    child(args)


def child(args) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from datetime import date, datetime, timedelta

    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from core.models import Organization, Site
    from drugtests import draws
    from drugtests.models import DrawPoolEntry, Selection, TestingPolicy
    from drugtests.services.random_draw import draw_run
    from drugtests.verification import verify_draws
    from patients.models import Enrollment, Patient

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
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    ids = [p.pk for p in patients]
    first_monday = date(2026, 3, 2)
    weekdays = (first_monday + timedelta(days=d) for d in range(14 * args.runs + 14))
    days = [d for d in weekdays if d.weekday() < 5][: args.runs + 1]
    draw_times, hmac_times, commit_times, pools, selected = [], [], [], [], []
    for run, on in enumerate(days):
        # Floors first, interleaved with the draws so noise hits both alike.
        seed = draws.new_seed()
        t0 = time.perf_counter()
        for pid in ids:
            draws.uniform_hex(seed, run, pid)
        hmac_elapsed = time.perf_counter() - t0
        t0 = time.perf_counter()
        with transaction.atomic():
            Site.objects.select_for_update().filter(pk=site.pk).first()
        commit_elapsed = time.perf_counter() - t0
        now = datetime.combine(on, datetime.min.time(), tzinfo=site.tz) + timedelta(hours=6)
        t0 = time.perf_counter()
        result = draw_run(site=site, on=on, now=now)  # its own transaction, committed
        elapsed = time.perf_counter() - t0
        if run == 0:
            continue  # warm-up: first query plans, first allocation of the tables
        draw_times.append(elapsed)
        hmac_times.append(hmac_elapsed)
        commit_times.append(commit_elapsed)
        pools.append(result.draw.pool_size)
        selected.append(result.draw.selected_count)
        print(
            f"run {run}: {on} pool {result.draw.pool_size} selected "
            f"{result.draw.selected_count} in {elapsed * 1000:.0f} ms "
            f"(hmac floor {hmac_elapsed * 1000:.0f} ms, "
            f"commit floor {commit_elapsed * 1000:.1f} ms)"
        )
    checked = list(verify_draws(site))
    problems = [str(p) for p in checked[:-1]]
    med = statistics.median(draw_times)
    out = {
        "patients": args.patients,
        "runs": len(draw_times),
        "draw_median_s": round(med, 4),
        "draw_best_s": round(min(draw_times), 4),
        "draw_worst_s": round(max(draw_times), 4),
        "hmac_floor_median_s": round(statistics.median(hmac_times), 4),
        "commit_floor_median_s": round(statistics.median(commit_times), 5),
        "ratio_to_hmac_floor": round(med / statistics.median(hmac_times), 2),
        "pool_size": statistics.median(pools),
        "selected_median": statistics.median(selected),
        "pool_rows": DrawPoolEntry.objects.filter(draw__site=site).count(),
        "selection_rows": Selection.objects.filter(site=site).count(),
        "verify_draws": {"checked": checked[-1], "problems": problems},
        "target_s": 0.5,
        "meets_target": med < 0.5,
    }
    print(json.dumps(out, indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
