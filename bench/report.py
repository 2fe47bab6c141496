"""Gather bench/out/*.json into bench/results.json and bench/RESULTS.md (machine, date,
figures, and where each target of the benchmark issue stands).

    python bench/report.py [--runs 3 --seconds 5 --soak 60 --elapsed S]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")

FLOOR_SHARE = 0.10  # every page at least 1/10 of the floor's req/s at the large size
# Rows of the page table that are not pages: the signed-in floor shows what the stack
# costs a signed-in request, the ceiling of every page below it.
NOT_PAGES = {"signed-in floor"}
GROWTH = 1.25  # page cost at the large size within 1.25x of the small size
DRAW_S = 0.5
GUNICORN_MB = 150
CELERY_MB = 200


def _load(name: str):
    path = OUT / name
    return json.loads(path.read_text()) if path.exists() else None


def machine() -> dict:
    mem_kb = int(
        next(
            line.split()[1]
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
    )
    try:
        import psycopg

        with psycopg.connect(f"{PG.replace('postgres://', 'postgresql://')}/postgres") as c:
            pg = c.execute("SHOW server_version").fetchone()[0]
    except Exception as exc:  # noqa: BLE001 - the report still gets written
        pg = f"unknown ({exc.__class__.__name__})"
    try:
        redis = subprocess.run(
            ["redis-server", "--version"], capture_output=True, text=True
        ).stdout.split()[2]
    except (OSError, IndexError):
        redis = "unknown"
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
        ).stdout.strip()
    except OSError:
        commit = ""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "date_utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "postgresql": pg,
        "redis": redis,
        "wrk": subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0]
        if _has("wrk")
        else "missing",
        "commit": commit,
        "load_average_at_report": os.getloadavg(),
    }


def _has(cmd: str) -> bool:
    from shutil import which

    return which(cmd) is not None


def _sizes(variant: str = "") -> list[int]:
    out = []
    for p in OUT.glob("pages-*.json"):
        parts = p.stem.split("-")
        if parts[1].isdigit() and "-".join(parts[2:]) == variant:
            out.append(int(parts[1]))
    return sorted(out)


def _table(pages: dict, sizes: list[int]) -> dict:
    small, large = (sizes[0], sizes[-1]) if sizes else (None, None)
    table = {}
    for n in sizes:
        for name, row in pages[n]["pages"].items():
            table.setdefault(name, {})[n] = row
    for rows in table.values():
        if small != large and small in rows and large in rows and rows[large]["ratio_to_floor"]:
            # cost = floor req/s / page req/s, each in its own run: noise cancels.
            rows["cost_ratio"] = round(
                rows[small]["ratio_to_floor"] / rows[large]["ratio_to_floor"], 3
            )
    return table


def build(args) -> dict:
    sizes = _sizes()
    pages = {n: _load(f"pages-{n}.json") for n in sizes}
    small, large = (sizes[0], sizes[-1]) if sizes else (None, None)
    table = _table(pages, sizes)
    groups_sizes = _sizes("groups")
    groups_pages = {n: _load(f"pages-{n}-groups.json") for n in groups_sizes}
    experiment = (
        {
            "sizes": groups_sizes,
            "pages": {str(n): groups_pages[n] for n in groups_sizes},
            "table": {
                name: {str(k): v for k, v in rows.items()}
                for name, rows in _table(groups_pages, groups_sizes).items()
            },
        }
        if groups_sizes
        else None
    )
    draw = _load("draw.json")
    reminders = _load("reminders.json")
    big = pages.get(large) or {}
    targets = []
    if big:
        slow = [
            f"{name} ({rows[large]['ratio_to_floor']:.3f})"
            for name, rows in table.items()
            if name not in NOT_PAGES and rows.get(large, {}).get("ratio_to_floor", 0) < FLOOR_SHARE
        ]
        targets.append(
            {
                "target": f"every page >= 1/10 of the floor's req/s at {large} patients",
                "met": not slow,
                "detail": "all pages" if not slow else "below: " + ", ".join(slow),
            }
        )
        grown = [
            f"{name} ({rows['cost_ratio']:.2f}x)"
            for name, rows in table.items()
            if rows.get("cost_ratio", 0) > GROWTH
        ]
        targets.append(
            {
                "target": f"page cost at {large} within {GROWTH}x of its cost at {small}",
                "met": not grown if small != large else None,
                "detail": "all pages" if not grown else "above: " + ", ".join(grown),
            }
        )
        seeded = big.get("seed_seconds")
        targets.append(
            {
                "target": f"seed_scale --patients {large} --weeks {big.get('weeks')} < 5 min",
                "met": seeded is not None and seeded < 300,
                "detail": f"{seeded} s (migrated database, all scale hooks: "
                + ", ".join(k for k, v in (big.get("scale_hooks") or {}).items() if v)
                + ")",
            }
        )
        rss = big.get("gunicorn_worker_peak_rss_mb")
        targets.append(
            {
                "target": f"gunicorn worker peak RSS < {GUNICORN_MB} MB",
                "met": rss is not None and rss < GUNICORN_MB,
                "detail": f"{rss} MB (VmHWM of the larger worker after the {large} run)",
            }
        )
        soak = big.get("soak_staff_home_32c")
        targets.append(
            {
                "target": "wrk 32 connections x 60 s on the staff home: zero errors",
                "met": bool(soak) and soak["errors"] == 0 and args.soak >= 60,
                "detail": (
                    f"{soak['errors']} errors, {soak['rps']} req/s, p99 {soak['p99_ms']} ms "
                    f"over {args.soak} s"
                    if soak
                    else "not run"
                ),
            }
        )
    if draw:
        targets.append(
            {
                "target": f"draw over {draw['patients']} patients < {DRAW_S} s",
                "met": draw["draw_median_s"] < DRAW_S,
                "detail": f"median {draw['draw_median_s']} s over {draw['runs']} runs "
                f"(best {draw['draw_best_s']}, worst {draw['draw_worst_s']})",
            }
        )
    if reminders:
        lean = reminders.get("lean_sink")
        detail = (
            f"aiosmtpd sink: {reminders['reminders_per_s']} vs {reminders['noop_per_s']} /s "
            f"(ratio {reminders['ratio_to_noop']})"
        )
        if lean:
            detail += (
                f"; lean sink: {lean['reminders_per_s']} vs {lean['noop_per_s']} /s "
                f"(ratio {lean['ratio_to_noop']})"
            )
        targets.append(
            {
                "target": "reminders/s >= no-op Celery tasks/s",
                # Met only if it holds with the sink the tests use as well.
                "met": reminders["ratio_to_noop"] >= 1,
                "detail": detail,
            }
        )
        targets.append(
            {
                "target": f"Celery worker peak RSS < {CELERY_MB} MB",
                "met": reminders["celery_worker_peak_rss_mb"] < CELERY_MB,
                "detail": f"{reminders['celery_worker_peak_rss_mb']} MB",
            }
        )
    else:
        for t in (
            "reminders/s >= no-op Celery tasks/s",
            f"Celery worker peak RSS < {CELERY_MB} MB",
        ):
            targets.append(
                {
                    "target": t,
                    "met": None,
                    "detail": "not measured: the notifications app was not committed when "
                    "this benchmark was written (no bench/reminders.py yet)",
                }
            )
    return {
        "machine": machine(),
        "parameters": {
            "sizes": sizes,
            "runs": args.runs,
            "seconds_per_page": args.seconds,
            "soak_seconds": args.soak,
            "elapsed_s": args.elapsed,
        },
        "pages": {str(n): pages[n] for n in sizes},
        "table": {name: {str(k): v for k, v in rows.items()} for name, rows in table.items()},
        "draw": draw,
        "reminders": reminders,
        "targets": targets,
        "experiment_groups": experiment,
        "audit_concurrency": _load("audit_concurrency.json"),
    }


def _fmt(v, spec=""):
    if v is None:
        return "-"
    return format(v, spec) if spec else str(v)


def _pages_table(table: dict, sizes: list[int]) -> list[str]:
    lines = []
    head = "| page | " + " | ".join(f"{n}: req/s | p50 / p99 ms | queries | x floor" for n in sizes)
    head += " | cost ratio |" if len(sizes) > 1 else " |"
    lines.append(head)
    lines.append("|" + "---|" * (1 + 4 * len(sizes) + (1 if len(sizes) > 1 else 0)))
    for name, rows in table.items():
        cells = [name]
        for n in sizes:
            r = rows.get(str(n))
            if not r:
                cells += ["-"] * 4
                continue
            cells += [
                f"{r['rps']:.1f}",
                f"{_fmt(r['p50_ms'], '.1f')} / {_fmt(r['p99_ms'], '.1f')}",
                str(r["queries"]),
                f"{r['ratio_to_floor']:.4f}",
            ]
        if len(sizes) > 1:
            cells.append(_fmt(rows.get("cost_ratio"), ".2f"))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def markdown(res: dict) -> str:
    m, p = res["machine"], res["parameters"]
    sizes = p["sizes"]
    lines = [
        "# Stepwise benchmark results",
        "",
        "Written by `make bench` (bench/run.sh, bench/report.py); raw figures in "
        "`bench/results.json`. Every throughput is also given as a ratio to the floor "
        "(a trivial view served by the same gunicorn in the same run), and each figure is "
        f"the median of {p['runs']} runs of {p['seconds_per_page']} s (wrk, 2 threads, "
        "8 connections, loopback), floor and pages interleaved. Each size has its own "
        "database and gunicorn, and the sizes are measured side by side, page by page, so "
        "the cost ratio compares figures taken within minutes of each other.",
        "",
        "## Machine",
        "",
        f"- Date: {m['date_utc']}; commit {m['commit']}",
        f"- CPU: {m['nproc']} cores ({m['cpu']}); memory {m['memory_gib']} GiB",
        f"- Python {m['python']}, PostgreSQL {m['postgresql']}, Redis {m['redis']}, {m['wrk']}",
        "- gunicorn 2 sync workers, DEBUG=0, persistent database connections "
        "(CONN_MAX_AGE=600), wrk on the same machine; other work was running beside it "
        "(load average at report time "
        f"{', '.join(f'{x:.1f}' for x in m['load_average_at_report'])})",
        "",
    ]
    for n in sizes:
        page = res["pages"][str(n)]
        lines.append(
            f"- {n} patients x {page['weeks']} weeks: seeded in "
            f"{_fmt(page.get('seed_seconds'))} s; "
            f"floor {page['floor_rps']:.0f} req/s"
        )
    lines += ["", "## Pages", ""]
    lines += _pages_table(res["table"], sizes)
    if len(sizes) > 1:
        lines += [
            "",
            f"Cost ratio = (page/floor at {sizes[0]}) / (page/floor at {sizes[-1]}): 1.0 means "
            "the page costs the same with ten times the data; the target is at most 1.25.",
        ]
    exp = res.get("experiment_groups")
    if exp:
        lines += [
            "",
            "### Experiment: the same pages with therapy groups of about 12",
            "",
            "Not the benchmark's data: `bench/seed_groups.py` runs `seed_scale` but splits each "
            "of the demo's 8 tracks into groups of at most 12 patients before the scheduling "
            "history is built (see the notes below). Same harness, same floor method.",
            "",
        ]
        lines += _pages_table(exp["table"], exp["sizes"])
        for n in exp["sizes"]:
            page = exp["pages"][str(n)]
            lines.append("")
            lines.append(
                f"- {n} patients: floor {page['floor_rps']:.0f} req/s; gunicorn worker peak RSS "
                f"{page.get('gunicorn_worker_peak_rss_mb')} MB"
            )
    d = res.get("draw")
    lines += ["", "## Draw", ""]
    if d:
        lines += [
            "`drugtests.services.random_draw.draw_run` over "
            f"{d['patients']} eligible patients, committed: "
            f"median {d['draw_median_s'] * 1000:.0f} ms (best {d['draw_best_s'] * 1000:.0f}, "
            f"worst {d['draw_worst_s'] * 1000:.0f}) over {d['runs']} runs; "
            f"{d['selected_median']:.0f} selected per draw.",
            f"Floors in the same run: the 10,000 HMACs alone {d['hmac_floor_median_s'] * 1000:.0f} "
            f"ms (draw = {d['ratio_to_hmac_floor']}x that); an empty locking transaction "
            f"{d['commit_floor_median_s'] * 1000:.1f} ms. verify_draws afterwards: "
            f"{d['verify_draws']['checked']} draws checked, "
            f"{len(d['verify_draws']['problems'])} problems.",
        ]
    else:
        lines.append("Not run.")
    lines += ["", "## Reminders and memory", ""]
    r = res.get("reminders")
    if r:
        lines.append(
            f"{r['reminders']} reminders sent in batches of {r.get('batch_size', 1)} by a "
            f"prefork worker of {r['concurrency']} processes; each rate is against a no-op "
            "run (one task per message, as the target is worded) over the same broker and "
            "worker just before it."
        )
        lines.append("")
        lines.append(
            f"- aiosmtpd sink (in the benchmark process, as in the tests): "
            f"{r['reminders_per_s']} reminders/s vs {r['noop_per_s']} no-op tasks/s "
            f"(ratio {r['ratio_to_noop']})"
        )
        lean = r.get("lean_sink")
        if lean:
            lines.append(
                f"- lean sink (bench/smtp_sink.py, its own process): "
                f"{lean['reminders_per_s']} reminders/s vs {lean['noop_per_s']} no-op "
                f"tasks/s (ratio {lean['ratio_to_noop']})"
            )
        lines.append(f"- Celery worker peak RSS {r['celery_worker_peak_rss_mb']} MB")
    else:
        lines.append(
            "The reminder benchmark (10,000 reminders through real workers to an SMTP sink, "
            "against a no-op task over the same broker) is not here: the notifications app "
            "was still being written and was not committed when this benchmark was built. "
            "So neither the reminder rate nor the Celery worker's RSS is measured yet."
        )
    for n in sizes:
        page = res["pages"][str(n)]
        lines.append(
            f"- gunicorn worker peak RSS after the {n}-patient page run: "
            f"{page.get('gunicorn_worker_peak_rss_mb')} MB"
        )
    audit = res.get("audit_concurrency")
    if audit:  # bench/audit_concurrency.py writes its own section
        from audit_concurrency import markdown_section

        lines += ["", *markdown_section(audit)]
    lines += ["", "## Targets", "", "| target | status | detail |", "|---|---|---|"]
    for t in res["targets"]:
        status = {True: "met", False: "MISSED", None: "not measured"}[t["met"]]
        lines.append(f"| {t['target']} | {status} | {t['detail']} |")
    notes = ROOT / "bench" / "NOTES.md"
    if notes.exists():
        lines += ["", notes.read_text().strip()]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--soak", type=int, default=60)
    parser.add_argument("--elapsed", type=int, default=None)
    args = parser.parse_args()
    res = build(args)
    (ROOT / "bench" / "results.json").write_text(json.dumps(res, indent=2))
    (ROOT / "bench" / "RESULTS.md").write_text(markdown(res))


if __name__ == "__main__":
    main()
