"""Audit concurrency benchmark for ``make bench``: audited writes per second with 1, 2, 4
and 8 concurrent writer processes, each write its own transaction, in a fresh database.

Per writer count, interleaved in each run so that the machine's load falls on all alike:

- ``plain``: the business insert alone (a row like an audit row's content), no audit;
- ``old``: the insert plus the audit row as it was written before issue 20, a global
  advisory lock per append to extend the one chain (``old_append`` below reproduces it);
- ``new``: the insert plus ``core.audit.record`` (its own MAC, no lock), unsealed;
- ``new+sealer``: the same with a sealer process running ``core.audit.seal`` every 0.5 s
  beside the writers (beat runs it every 5 s), to show the sealer does not hold them up.

Then the sealer's throughput (rows/s, one ``seal()`` over every unsealed row) and
``verify_trail``'s time over the whole sealed trail.

    python bench/audit_concurrency.py [--writers 1 2 4 8] [--per-writer 300] [--runs 3]
        [--json bench/out/audit_concurrency.json] [--results-md bench/RESULTS.md]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
DB = "stepwise_bench_audit"
MODES = ("plain", "old", "new", "new+sealer")
SECTION = "## Audit concurrency"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--writers", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--per-writer", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--results-md", type=Path, help="write the section into this file")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.child:
        from pages import env_for, recreate_database

        recreate_database(DB)
        cmd = [sys.executable, __file__, "--child", "--per-writer", str(args.per_writer)]
        cmd += ["--runs", str(args.runs), "--writers", *map(str, args.writers)]
        cmd += ["--json", str(args.json)] if args.json else []
        cmd += ["--results-md", str(args.results_md)] if args.results_md else []
        sys.exit(subprocess.run(cmd, env=env_for(DB), cwd=ROOT).returncode)
    child(args)


# --- in the child: Django set up against the benchmark's database ---------------------


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()


def _plain_model():
    from django.db import models

    class PlainRow(models.Model):
        """The business write: a row of the audit row's shape, without the audit."""

        at = models.DateTimeField()
        action = models.CharField(max_length=64)
        patient_id = models.BigIntegerField(null=True)
        object_type = models.CharField(max_length=64, blank=True)
        object_id = models.CharField(max_length=64, blank=True)
        detail = models.JSONField(default=dict)

        class Meta:
            app_label = "bench"
            db_table = "bench_plain_row"

        def __str__(self) -> str:
            return f"{self.action} #{self.pk}"

    return PlainRow


PlainRow = None


def old_append(**fields):
    """The append before issue 20: every audited write of every organisation takes the
    one advisory lock, reads the chain's head and extends it, in its own transaction."""
    from django.db import connection, transaction

    from core import audit
    from core.models import AuditEvent

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [audit._LOCK_KEY])
        last = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
        seq, prev = (last[0] + 1, last[1]) if last else (1, audit.GENESIS)
        event = AuditEvent(seq=seq, prev_hash=prev, key_id=audit.LEGACY_KEY_ID, **fields)
        event.hash = audit.compute_legacy_hash(event)
        event.save(force_insert=True)
    return event


def _one_write(mode: str, writer: int, i: int) -> None:
    from django.db import transaction
    from django.utils import timezone

    from core import audit

    now = timezone.now()
    with transaction.atomic():
        row = PlainRow.objects.create(
            at=now, action="bench.write", patient_id=i, object_type="bench", detail={"w": writer}
        )
        if mode == "plain":
            return
        fields = {
            "at": now,
            "actor": None,
            "actor_label": "bench",
            "action": "bench.write",
            "outcome": "ok",
            "patient_id": i,
            "site_id": None,
            "object_type": "bench.PlainRow",
            "object_id": str(row.pk),
            "ip": "127.0.0.1",
            "detail": {"w": writer},
        }
        if mode == "old":
            old_append(**fields)
        else:
            audit.append(audit.AuditEvent, **fields)


def _writer(mode: str, writer: int, n: int, barrier, results) -> None:
    from django.db import connections

    connections.close_all()  # never share the parent's socket
    _one_write("plain", writer, -1)  # connect and warm up outside the timed part
    barrier.wait()
    started = time.monotonic()
    for i in range(n):
        _one_write(mode, writer, i)
    results.put((started, time.monotonic()))
    connections.close_all()


def _sealer(stop) -> None:
    from django.db import connections

    from core import audit

    connections.close_all()
    while not stop.is_set():
        audit.seal(wait=False)
        stop.wait(0.5)
    connections.close_all()


def _truncate() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        # TRUNCATE fires no row trigger: the append-only guard is for UPDATE and DELETE.
        cursor.execute("TRUNCATE core_auditevent, bench_plain_row RESTART IDENTITY")


def _scenario(mode: str, writers: int, per_writer: int) -> dict:
    from django.db import connections

    _truncate()
    connections.close_all()
    ctx = mp.get_context("fork")
    barrier, results = ctx.Barrier(writers + 1), ctx.Queue()
    procs = [
        ctx.Process(target=_writer, args=(mode, w, per_writer, barrier, results))
        for w in range(writers)
    ]
    stop = ctx.Event()
    sealer = ctx.Process(target=_sealer, args=(stop,)) if mode == "new+sealer" else None
    for p in procs:
        p.start()
    if sealer:
        sealer.start()
    barrier.wait()
    t0 = time.monotonic()
    ends = [results.get(timeout=600)[1] for _ in procs]
    for p in procs:
        p.join()
    stop.set()
    if sealer:
        sealer.join()
    for p in [*procs, *([sealer] if sealer else [])]:
        if p.exitcode:
            raise SystemExit(f"{mode} x{writers}: a process exited with {p.exitcode}")
    elapsed = max(ends) - t0
    return {"writes": writers * per_writer, "seconds": round(elapsed, 3)}


def _seal_and_verify(writers: int, per_writer: int) -> dict:
    """Append ``writers * per_writer`` rows concurrently, seal them in one go, then verify
    the trail; sealing and verifying timed."""
    from core import audit

    _scenario("new", writers, per_writer)
    started = time.monotonic()
    sealed = audit.seal()
    seal_s = time.monotonic() - started
    started = time.monotonic()
    result = audit.verify_trail()
    verify_s = time.monotonic() - started
    return {
        "rows": sealed,
        "seal_seconds": round(seal_s, 3),
        "seal_rows_per_s": round(sealed / seal_s),
        "verify_seconds": round(verify_s, 3),
        "verify_rows_per_s": round((result.sealed + result.unsealed) / verify_s),
        "verify_problems": len(result.problems),
    }


def child(args) -> None:
    global PlainRow
    _setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    PlainRow = _plain_model()
    with connection.schema_editor() as editor:
        editor.create_model(PlainRow)
    raw: dict[str, dict[str, list[dict]]] = {m: {str(n): [] for n in args.writers} for m in MODES}
    for run in range(args.runs):
        for n in args.writers:
            for mode in MODES:
                r = _scenario(mode, n, args.per_writer)
                raw[mode][str(n)].append(r)
                print(f"run {run + 1} {mode:>10} x{n}: {r['writes'] / r['seconds']:.0f}/s")
    table = {
        mode: {
            n: round(statistics.median(r["writes"] / r["seconds"] for r in runs))
            for n, runs in by_n.items()
        }
        for mode, by_n in raw.items()
    }
    sealing = _seal_and_verify(max(args.writers), args.per_writer * 2)
    print(f"seal: {sealing}")
    res = {
        "per_writer": args.per_writer,
        "runs": args.runs,
        "writers": args.writers,
        "writes_per_s": table,
        "raw": raw,
        "sealing": sealing,
        "load_average": os.getloadavg(),
        "date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "nproc": os.cpu_count(),
    }
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(res, indent=2))
    if args.results_md:
        write_section(args.results_md, res)


# --- the report's section (bench/report.py calls markdown_section) --------------------


def markdown_section(res: dict) -> list[str]:
    t, s = res["writes_per_s"], res["sealing"]
    writers = [str(n) for n in res["writers"]]
    lines = [
        SECTION,
        "",
        f"Writes per second with 1 to {writers[-1]} concurrent writer processes, "
        f"{res['per_writer']} writes each, every write its own transaction ("
        + (f"median of {res['runs']} runs" if res["runs"] > 1 else "one run")
        + f", modes interleaved; {res.get('date_utc', '')}). `plain`: the business insert alone; "
        "`old`: plus the audit row under the one global advisory lock (the scheme before "
        "issue 20, reproduced in `bench/audit_concurrency.py`); `new`: plus "
        "`core.audit.record` (own MAC, no lock, sealed later); `new+sealer`: the same with "
        "a sealer process running every 0.5 s beside the writers. `old` and `new` write "
        "two rows per transaction (the business row, then the audit row and its indexes), "
        "`plain` one.",
        "",
        "| writers | " + " | ".join(writers) + " |",
        "|---|" + "---|" * len(writers),
    ]
    for mode in MODES:
        lines.append(f"| {mode} | " + " | ".join(str(t[mode][n]) for n in writers) + " |")
    for mode in ("old", "new"):
        lines.append(
            f"| {mode} / plain | "
            + " | ".join(f"{t[mode][n] / t['plain'][n]:.2f}" for n in writers)
            + " |"
        )
    lines += [
        "",
        f"Sealer: {s['rows']} unsealed rows chained in {s['seal_seconds']} s "
        f"({s['seal_rows_per_s']} rows/s, batches of 2,000). `verify_audit`'s check of the "
        f"sealed trail: {s['verify_seconds']} s ({s['verify_rows_per_s']} rows/s), "
        f"{s['verify_problems']} problems.",
        "",
        f"Measured on a shared, loaded machine ({res['nproc']} cores, load average "
        f"{', '.join(f'{x:.1f}' for x in res['load_average'])} at the end, other people's "
        "tests and builds running beside it): compare the rows with each other, not with "
        "figures taken elsewhere.",
    ]
    return lines


def write_section(path: Path, res: dict) -> None:
    """Put the section into RESULTS.md in place (before Targets), leaving the rest."""
    text = path.read_text() if path.exists() else ""
    section = "\n".join(markdown_section(res)) + "\n"
    if SECTION + "\n" in text:
        start = text.index(SECTION + "\n")
        nxt = text.find("\n## ", start + len(SECTION))
        text = text[:start] + section + (text[nxt + 1 :] if nxt != -1 else "")
    elif "\n## Targets\n" in text:
        at = text.index("\n## Targets\n") + 1
        text = text[:at] + section + "\n" + text[at:]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)


if __name__ == "__main__":
    main()
