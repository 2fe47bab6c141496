"""Page benchmark: gunicorn (production settings, persistent connections) and wrk on
loopback, every page against the floor view in the same run.

    python bench/pages.py --patients 500 5000 --weeks 26 [--runs 3] [--seconds 5]

Each size gets its own database (<BENCH_DB_PREFIX>_<patients>, by default
stepwise_bench_<patients>, created fresh and seeded with ``seed_scale``) and its own
gunicorn; the sizes are measured side by side, page by page, so the cost ratio compares
figures taken minutes apart at most. Writes bench/out/pages-<patients>[-<variant>].json
per size.

Every process runs on the same clinic weekday (``BENCH_NOW``, see bench/clock.py), so
the figures do not depend on the day the run happens on. ``BENCH_PAGES`` (names from
``PAGES`` separated by commas, e.g. ``"staff home,drug-test day list"``) measures a subset.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PY = str(ROOT / ".venv" / "bin" / "python")
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB_PREFIX = os.environ.get("BENCH_DB_PREFIX", "stepwise_bench")

# name, user, path builder (ctx -> path)
PAGES = [
    # Not a page: the floor's two bytes as a signed-in counselor, i.e. the stack's own cost
    # per signed-in request (every page below pays it before its own work).
    ("signed-in floor", "counselor", lambda c: "/bench/floor-signed-in"),
    ("staff home", "counselor", lambda c: "/"),
    ("caseload list", "counselor", lambda c: "/patients/"),
    ("patient chart", "counselor", lambda c: f"/patients/{c['patient_id']}/"),
    ("attendance screen", "counselor", lambda c: c["attendance_path"]),
    ("group-note screen", "counselor", lambda c: c["group_note_path"]),
    ("notes queue", "counselor", lambda c: "/records/queue/"),
    ("co-sign queue", "director", lambda c: "/records/queue/"),
    ("patient's notes", "counselor", lambda c: f"/records/patients/{c['patient_id']}/notes/"),
    ("compliance grid", "counselor", lambda c: c["compliance_path"]),
    ("drug-test day list", "collector", lambda c: c["drugtests_path"]),
    ("director report", "director", lambda c: "/reports/census/"),
    ("portal home", "patient", lambda c: "/"),
    ("portal schedule", "patient", lambda c: c["portal_schedule_path"]),
    # #18: measurement-based care and contingency management.
    ("portal check-in question", "patient", lambda c: c["checkin_path"]),
    ("patient's scores", "counselor", lambda c: f"/measures/patients/{c['patient_id']}/"),
    ("outcomes report", "director", lambda c: "/reports/measures-outcomes/"),
    ("CM dashboard", "counselor", lambda c: "/contingency/"),
    ("CM episode", "counselor", lambda c: c["cm_episode_path"]),
    ("portal rewards", "patient", lambda c: "/contingency/mine/"),
    ("CM fidelity report", "director", lambda c: "/reports/cm-fidelity/"),
]


def selected_pages(value: str | None) -> list[tuple]:
    """``PAGES``, or the ones named in ``value`` (comma-separated; an unknown name is an
    error, so a typo does not silently measure nothing)."""
    if not value or not value.strip():
        return list(PAGES)
    names = [n.strip() for n in value.split(",") if n.strip()]
    known = {name for name, _, _ in PAGES}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f"BENCH_PAGES: no such page {unknown}; pages are {sorted(known)}")
    return [page for page in PAGES if page[0] in names]


def env_for(db: str) -> dict:
    env = dict(os.environ)
    # One clock for every process of the run (bench/clock.py): later processes continue
    # where the first one's clock stands instead of starting again at BENCH_NOW.
    env.setdefault("BENCH_CLOCK_STARTED", CLOCK_STARTED)
    env.update(
        # Production settings plus the bench app (seed_scale) and the floor URL.
        DJANGO_SETTINGS_MODULE="bench.settings",
        DATABASE_URL=f"{PG}/{db}",
        DEBUG="0",
        SECRET_KEY="bench-only-secret-key-" + "x" * 40,
        AUDIT_KEYS="bench:bench-only-audit-key-" + "x" * 40,
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        CONN_MAX_AGE="600",
        STEPWISE_REQUIRE_MFA="0",
        LOG_LEVEL="WARNING",
        CELERY_BROKER_URL=os.environ.get("BENCH_BROKER", "redis://127.0.0.1:6379/7"),
    )
    return env


def run(cmd, env, **kw):
    return subprocess.run(cmd, env=env, cwd=ROOT, check=True, **kw)


def recreate_database(db: str) -> None:
    import psycopg

    with psycopg.connect(
        f"{PG.replace('postgres://', 'postgresql://')}/postgres", autocommit=True
    ) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{db}"')


def analyze(db: str) -> None:
    import psycopg

    with psycopg.connect(
        f"{PG.replace('postgres://', 'postgresql://')}/{db}", autocommit=True
    ) as c:
        c.execute("VACUUM (ANALYZE)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(root: Path, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    """Two gunicorn workers serving the checkout at ``root`` on a free port, in a session
    of their own (stopped with ``os.killpg``); returns once the port accepts connections."""
    port = free_port()
    server = subprocess.Popen(
        [str(root / ".venv" / "bin" / "gunicorn"), "clinic.wsgi:application"]
        + ["-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "warning"],
        env=env,
        cwd=root,
        start_new_session=True,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    return server, f"http://127.0.0.1:{port}"


CLOCK_STARTED = str(time.time())
WRK_TIMEOUT = int(os.environ.get("BENCH_WRK_TIMEOUT", "30"))
WRK_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
WRK_LAT = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)
WRK_NON2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
WRK_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


def wrk(url: str, cookie: str | None, seconds: int, connections: int = 8) -> dict:
    cmd = [
        "wrk",
        "-t2",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        # Slow pages still give figures instead of timing out (a timeout counts as an error).
        "--timeout",
        f"{WRK_TIMEOUT}s",
        "-H",
        "X-Forwarded-Proto: https",
    ]
    if cookie:
        cmd += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    lat = {}
    for pct, value, unit in WRK_LAT.findall(out):
        lat[pct] = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    non2xx = int(m.group(1)) if (m := WRK_NON2XX.search(out)) else 0
    sock = sum(map(int, m.groups())) if (m := WRK_SOCKET.search(out)) else 0
    return {
        "rps": float(WRK_RPS.search(out).group(1)),
        "p50_ms": lat.get("50"),
        "p99_ms": lat.get("99"),
        "errors": non2xx + sock,
    }


def warm_up(url: str, cookie: str) -> float:
    """Two requests (one per worker, roughly); returns the seconds the last one took."""
    import urllib.request

    # Loopback http only: the url is built from our own gunicorn's address.
    request = urllib.request.Request(  # noqa: S310
        url, headers={"Cookie": cookie, "X-Forwarded-Proto": "https"}
    )
    for _ in range(2):
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=WRK_TIMEOUT) as response:  # noqa: S310
            # A lost session redirects to the login page, which wrk would count as a success.
            if response.status != 200 or response.url != url:
                raise SystemExit(f"{url} answered {response.status} ({response.url}) on warm-up")
            response.read()
    return time.perf_counter() - started


def drain(base: str, limit: float = 120.0) -> None:
    """Wait until gunicorn has worked off what wrk left queued when it stopped (sync
    workers finish every accepted request), so one slow page does not slow the next."""
    import urllib.request

    deadline = time.monotonic() + limit
    request = urllib.request.Request(  # noqa: S310 - our own gunicorn on loopback
        f"{base}/bench/floor", headers={"X-Forwarded-Proto": "https"}
    )
    quick = 0
    while quick < 2 and time.monotonic() < deadline:
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=limit) as response:  # noqa: S310
            response.read()
        quick = quick + 1 if time.perf_counter() - started < 0.05 else 0


def load_for(latency: float, seconds: int) -> tuple[int, int]:
    """(connections, seconds) for a page: a page slower than the run can show with 8
    connections queued on 2 workers gets 2 connections (both workers still busy, so the
    throughput is the same) and a run long enough for a few requests to finish."""
    if latency * 4 < seconds / 2:
        return 8, seconds
    return 2, max(seconds, math.ceil(latency * 4))


def rss_kb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1))


def prepare(size: int, weeks: int, env: dict) -> dict:
    """Seed, then build the cookies, paths and per-page query counts in a child process."""
    code = r"""
import json, sys, django
django.setup()
from bench.context import build_context
print(json.dumps(build_context()))
"""
    done = subprocess.run(
        [PY, "-c", code],
        env={**env, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        sys.stderr.write(done.stderr[-5000:])
        raise SystemExit(f"building the bench context failed ({done.returncode})")
    return json.loads(done.stdout.strip().splitlines()[-1])


class Server:
    """One data size: its seeded database, bench context and gunicorn."""

    def __init__(self, size: int, args) -> None:
        self.size = size
        self.suffix = f"-{args.variant}" if args.variant else ""
        self.db = f"{DB_PREFIX}_{size}{'_' + args.variant if args.variant else ''}"
        self.env = env_for(self.db)
        self.seed_seconds, self.seed_log = None, []
        if not args.reuse:
            recreate_database(self.db)
            run([PY, "manage.py", "migrate", "--noinput", "-v0"], self.env)
            t0 = time.monotonic()
            seeder = ["manage.py", "seed_scale"]
            if args.variant == "groups":
                seeder = ["bench/seed_groups.py"]
            self.seed_log = run(
                [PY, *seeder, "--patients", str(size), "--weeks", str(args.weeks)],
                self.env,
                capture_output=True,
                text=True,
            ).stdout.splitlines()
            self.seed_seconds = round(time.monotonic() - t0, 1)
            sys.stderr.write("\n".join(self.seed_log) + "\n")
        # A live database has planner statistics; a freshly bulk-loaded one has none until
        # autovacuum gets to it, and the plans chosen meanwhile would be the benchmark's story.
        analyze(self.db)
        # Production settings serve hashed static names from the collected manifest.
        run([PY, "manage.py", "collectstatic", "--noinput", "-v0"], self.env)
        self.ctx = prepare(size, args.weeks, self.env)
        self.gunicorn, self.base = start_gunicorn(ROOT, self.env)
        self.floor_runs: list[dict] = []
        self.page_runs: dict[str, list[dict]] = {name: [] for name, _, _ in args.pages}

    def url(self, path) -> str:
        return self.base + path(self.ctx)

    def stop(self) -> None:
        os.killpg(self.gunicorn.pid, signal.SIGTERM)
        self.gunicorn.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--patients",
        type=int,
        nargs="+",
        required=True,
        help="one or more sizes; several are measured side by side, page by page",
    )
    parser.add_argument("--weeks", type=int, default=26)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--soak-seconds", type=int, default=60)
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded database")
    parser.add_argument(
        "--variant",
        choices=["groups"],
        help="an experiment: seed with bench/seed_groups.py (therapy groups of about 12)",
    )
    parser.add_argument(
        "--pages",
        type=selected_pages,
        default=os.environ.get("BENCH_PAGES"),
        help="comma-separated page names (default: BENCH_PAGES, else every page)",
    )
    args = parser.parse_args()
    if not isinstance(args.pages, list):  # the default is converted only when a string
        args.pages = selected_pages(args.pages)
    OUT.mkdir(parents=True, exist_ok=True)
    servers: list[Server] = []
    try:
        for size in args.patients:
            servers.append(Server(size, args))
        # Warm-up: workers import the app lazily, then fill caches on the first requests.
        for s in servers:
            wrk(f"{s.base}/bench/floor", None, 1)
        # The same load for a page at every size (the slowest size decides), so only the
        # data differs between the figures that are compared.
        load = {
            name: load_for(
                max(warm_up(s.url(path), s.ctx["cookies"][user]) for s in servers), args.seconds
            )
            for name, user, path in args.pages
        }
        for _ in range(args.runs):
            # Interleaved: the floor and each page at every size in turn, so the machine's
            # noise (it is shared, and drifts over minutes) hits the compared figures alike.
            for s in servers:
                drain(s.base)
                s.floor_runs.append(wrk(f"{s.base}/bench/floor", None, args.seconds))
            for name, user, path in args.pages:
                connections, seconds = load[name]
                for s in servers:
                    drain(s.base)
                    s.page_runs[name].append(
                        wrk(s.url(path), s.ctx["cookies"][user], seconds, connections=connections)
                    )
        for s in servers:
            results = {
                "patients": s.size,
                "variant": args.variant,
                "weeks": args.weeks,
                "seed_seconds": s.seed_seconds,
                "seed_log": s.seed_log,
                "scale_hooks": {
                    app: (ROOT / "bench" / "scale" / f"{app}.py").exists()
                    for app in ("scheduling", "drugtests", "recovery", "notifications")
                },
                "bench_now": s.ctx.get("now"),
                "paths": {name: path(s.ctx) for name, _, path in args.pages},
                "page_bytes": {name: s.ctx["checks"][name]["bytes"] for name, _, _ in args.pages},
                "measured_with": [x.size for x in servers],
                "pages": {},
            }
            floor_rps = statistics.median(r["rps"] for r in s.floor_runs)
            results["floor_rps"] = floor_rps
            for name, runs in s.page_runs.items():
                rps = statistics.median(r["rps"] for r in runs)
                results["pages"][name] = {
                    "rps": round(rps, 1),
                    "p50_ms": statistics.median(r["p50_ms"] for r in runs),
                    "p99_ms": statistics.median(r["p99_ms"] for r in runs),
                    "errors": sum(r["errors"] for r in runs),
                    "queries": s.ctx["queries"][name],
                    "ratio_to_floor": round(rps / floor_rps, 4),
                    "wrk_connections": load[name][0],
                    "wrk_seconds": load[name][1],
                }
            if args.soak_seconds:
                drain(s.base)
                results["soak_staff_home_32c"] = wrk(
                    s.base + "/", s.ctx["cookies"]["counselor"], args.soak_seconds, connections=32
                )
            workers = [
                int(p)
                for p in subprocess.run(
                    ["pgrep", "-P", str(s.gunicorn.pid)], capture_output=True, text=True
                ).stdout.split()
            ]
            results["gunicorn_worker_peak_rss_mb"] = round(
                max(rss_kb(p) for p in workers) / 1024, 1
            )
            (OUT / f"pages-{s.size}{s.suffix}.json").write_text(json.dumps(results, indent=2))
            print(json.dumps(results, indent=2))
    finally:
        for s in servers:
            s.stop()


if __name__ == "__main__":
    sys.exit(main())
