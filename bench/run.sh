#!/usr/bin/env bash
# `make bench`: page benchmarks at 500 and 5,000 patients (26 weeks), the draw over
# 10,000 eligible patients, the reminder benchmark when the notifications app has one,
# the audit trail's concurrent writers (bench/audit_concurrency.py),
# then bench/results.json and bench/RESULTS.md. Not part of `make test`.
#
# Needs PostgreSQL and Redis on loopback (BENCH_PG, BENCH_BROKER override them).
# Knobs (environment): BENCH_SIZES="500 5000", BENCH_WEEKS=26, BENCH_RUNS=5,
# BENCH_SECONDS=5, BENCH_SOAK_SECONDS=60, BENCH_DRAW_PATIENTS=10000, BENCH_DRAW_RUNS=5.
# BENCH_QUICK=1 is a fast pass for iteration (1 run x 2 s, 10 s soak; figures are rough).
# BENCH_GROUPS=1 adds the experiment of bench/seed_groups.py (therapy groups of ~12) at
# the same sizes, reported in its own section.
# Quicker local runs: BENCH_ONLY=pages skips the draw and reminder benchmarks;
# BENCH_PAGES="staff home,drug-test day list" measures those pages only (names as in
# bench/pages.py); BENCH_DB_PREFIX=stepwise_mine names the databases <prefix>_<size>
# (default stepwise_bench), so two people on one server do not drop each other's.
# BENCH_NOW pins the clinic's clock for the page run (bench/clock.py; default Wednesday
# 2026-11-18 10:00 New York), so runs on different days compare; BENCH_NOW=real for the
# wall clock.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${BENCH_QUICK:-0}" = 1 ]; then
  : "${BENCH_RUNS:=1}" "${BENCH_SECONDS:=2}" "${BENCH_SOAK_SECONDS:=10}" "${BENCH_DRAW_RUNS:=3}"
fi
SIZES="${BENCH_SIZES:-500 5000}"
WEEKS="${BENCH_WEEKS:-26}"
RUNS="${BENCH_RUNS:-5}"
SECONDS_PER="${BENCH_SECONDS:-5}"
SOAK="${BENCH_SOAK_SECONDS:-60}"
DRAW_PATIENTS="${BENCH_DRAW_PATIENTS:-10000}"
DRAW_RUNS="${BENCH_DRAW_RUNS:-5}"
# Production settings plus the bench app (seed_scale) and the floor URL; bench/pages.py
# sets the same for every process it starts.
export DJANGO_SETTINGS_MODULE=bench.settings
export BENCH_PG="${BENCH_PG:-postgres://postgres@127.0.0.1:5432}"
export BENCH_BROKER="${BENCH_BROKER:-redis://127.0.0.1:6379/7}"
# One clinic clock for every step and process of the run (bench/clock.py).
export BENCH_CLOCK_STARTED="${BENCH_CLOCK_STARTED:-$(date +%s.%N)}"

bash scripts/venv.sh test
if ! command -v wrk >/dev/null 2>&1; then
  echo "installing wrk" >&2
  apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi

mkdir -p bench/out
rm -f bench/out/*.json
started=$(date +%s)

echo "== pages at $SIZES patients x $WEEKS weeks, measured side by side" >&2
# shellcheck disable=SC2086  # SIZES is a list of sizes
.venv/bin/python bench/pages.py --patients $SIZES --weeks "$WEEKS" --runs "$RUNS" \
  --seconds "$SECONDS_PER" --soak-seconds "$SOAK" > "bench/out/pages.log"

if [ "${BENCH_GROUPS:-0}" = 1 ]; then
  for n in $SIZES; do
    echo "== experiment: pages at $n patients, groups of 12" >&2
    .venv/bin/python bench/pages.py --patients "$n" --weeks "$WEEKS" --runs "$RUNS" \
      --seconds "$SECONDS_PER" --soak-seconds 0 --variant groups > "bench/out/pages-$n-groups.log"
  done
fi

if [ "${BENCH_ONLY:-}" = pages ]; then
  .venv/bin/python bench/report.py --runs "$RUNS" --seconds "$SECONDS_PER" --soak "$SOAK" \
    --elapsed "$(( $(date +%s) - started ))"
  echo "wrote bench/results.json and bench/RESULTS.md (pages only)" >&2
  exit 0
fi

echo "== draw over $DRAW_PATIENTS eligible patients" >&2
.venv/bin/python bench/draw.py --patients "$DRAW_PATIENTS" --runs "$DRAW_RUNS" \
  --json bench/out/draw.json > bench/out/draw.log

if [ -f bench/reminders.py ]; then
  echo "== reminders" >&2
  # A failure here still leaves the page and draw figures in the report.
  .venv/bin/python bench/reminders.py --json bench/out/reminders.json > bench/out/reminders.log \
    2>&1 || echo "reminder benchmark failed: see bench/out/reminders.log" >&2
fi

echo "== audit concurrency (writers 1, 2, 4, 8)" >&2
.venv/bin/python bench/audit_concurrency.py --json bench/out/audit_concurrency.json \
  > bench/out/audit_concurrency.log 2>&1 || echo "audit benchmark failed: see bench/out/audit_concurrency.log" >&2

.venv/bin/python bench/report.py --runs "$RUNS" --seconds "$SECONDS_PER" --soak "$SOAK" \
  --elapsed "$(( $(date +%s) - started ))"
echo "wrote bench/results.json and bench/RESULTS.md" >&2
