"""Two checkouts measured side by side on the same seeded databases: a before/after pair
taken in one run, so the shared machine's noise hits both alike.

    python bench/compare.py --before /path/to/old/checkout --sizes 500 5000 [--runs 3]

Each (checkout, size) gets its own gunicorn, started from that checkout (its code and
templates) against ``<BENCH_DB_PREFIX>_<size>`` (seeded beforehand by bench/pages.py or
``seed_scale``; the schema must be the same in both checkouts). The floor and every page
are measured in turn on each server, as bench/pages.py does, and the results go to
bench/out/compare-<label>-<size>.json in the shape of pages-<size>.json (so
``bench/report.py``'s readers apply). The before checkout needs a ``.venv`` (a symlink
to this one's will do) and is only read.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pages import (  # noqa: E402
    DB_PREFIX,
    OUT,
    analyze,
    drain,
    env_for,
    load_for,
    selected_pages,
    start_gunicorn,
    warm_up,
    wrk,
)


class Checkout:
    """One (checkout, size): its context (sessions, paths, query counts) and gunicorn."""

    def __init__(self, label: str, root: Path, size: int, pages: list[tuple]) -> None:
        self.label, self.root, self.size = label, root, size
        self.env = env_for(f"{DB_PREFIX}_{size}")
        py = str(root / ".venv" / "bin" / "python")
        subprocess.run(
            [py, "manage.py", "collectstatic", "--noinput", "-v0"],
            env=self.env,
            cwd=root,
            check=True,
        )
        code = "import json, django\ndjango.setup()\nfrom bench.context import build_context\n"
        code += "print(json.dumps(build_context()))\n"
        done = subprocess.run(
            [py, "-c", code],
            env={**self.env, "PYTHONPATH": str(root)},
            cwd=root,
            capture_output=True,
            text=True,
        )
        if done.returncode:
            sys.stderr.write(done.stderr[-5000:])
            raise SystemExit(f"context for {label} at {size} failed")
        self.ctx = json.loads(done.stdout.strip().splitlines()[-1])
        self.gunicorn, self.base = start_gunicorn(root, self.env)
        self.floor_runs: list[dict] = []
        self.page_runs: dict[str, list[dict]] = {name: [] for name, _, _ in pages}

    def url(self, path) -> str:  # noqa: ANN001
        return self.base + path(self.ctx)

    def stop(self) -> None:
        os.killpg(self.gunicorn.pid, signal.SIGTERM)
        self.gunicorn.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", type=Path, required=True, help="the other checkout")
    parser.add_argument("--sizes", type=int, nargs="+", required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--pages", type=selected_pages, default=os.environ.get("BENCH_PAGES"))
    args = parser.parse_args()
    pages = args.pages if isinstance(args.pages, list) else selected_pages(args.pages)
    OUT.mkdir(parents=True, exist_ok=True)
    servers: list[Checkout] = []
    try:
        for size in args.sizes:
            analyze(f"{DB_PREFIX}_{size}")
            for label, root in (("before", args.before.resolve()), ("after", ROOT)):
                servers.append(Checkout(label, root, size, pages))
        for s in servers:
            wrk(f"{s.base}/bench/floor", None, 1)
        load = {
            name: load_for(
                max(warm_up(s.url(path), s.ctx["cookies"][user]) for s in servers), args.seconds
            )
            for name, user, path in pages
        }
        for _ in range(args.runs):
            for s in servers:
                drain(s.base)
                s.floor_runs.append(wrk(f"{s.base}/bench/floor", None, args.seconds))
            for name, user, path in pages:
                connections, seconds = load[name]
                for s in servers:
                    drain(s.base)
                    s.page_runs[name].append(
                        wrk(s.url(path), s.ctx["cookies"][user], seconds, connections=connections)
                    )
        for s in servers:
            floor_rps = statistics.median(r["rps"] for r in s.floor_runs)
            results = {
                "label": s.label,
                "checkout": str(s.root),
                "patients": s.size,
                "bench_now": s.ctx.get("now"),
                "floor_rps": floor_rps,
                "paths": {name: path(s.ctx) for name, _, path in pages},
                "pages": {},
            }
            for name, runs in s.page_runs.items():
                rps = statistics.median(r["rps"] for r in runs)
                results["pages"][name] = {
                    "rps": round(rps, 1),
                    "p50_ms": statistics.median(r["p50_ms"] for r in runs),
                    "p99_ms": statistics.median(r["p99_ms"] for r in runs),
                    "errors": sum(r["errors"] for r in runs),
                    "queries": s.ctx["queries"][name],
                    "bytes": s.ctx["checks"][name]["bytes"],
                    "ratio_to_floor": round(rps / floor_rps, 4),
                    "wrk_connections": load[name][0],
                    "wrk_seconds": load[name][1],
                }
            (OUT / f"compare-{s.label}-{s.size}.json").write_text(json.dumps(results, indent=2))
            print(json.dumps(results, indent=2))
    finally:
        for s in servers:
            s.stop()


if __name__ == "__main__":
    sys.exit(main())
