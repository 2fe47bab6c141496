"""Reminder benchmark for ``make bench``: N due reminders (default 10,000) sent by a
real Celery worker (prefork, 2 processes) over Redis to a real SMTP sink on loopback,
against the throughput of a no-op task over the same broker and worker in the same run.

    python bench/reminders.py [--reminders 10000] [--json bench/out/reminders.json]

The reminders are outbox rows (``notifications.models.Notification``, email, due now)
for session reminders of a real future session; the timed part is what production does:
``notifications_dispatch_due`` claims the rows and puts their ids on the broker in
batches, the worker's ``send_batch`` claims a batch, renders and checks each message,
sends them over one connection through the production SMTP backend
(``core.mail.SMTPEmailBackend``, Django's with a direct path for plain text) and marks
each one sent.
The run is made twice, with aiosmtpd as the sink (the headline figure, the sink the
tests use) and with ``bench/smtp_sink.py`` (a lean sink in its own process), each
against a no-op run measured just before it. Also reports the worker's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
DB = "stepwise_bench_reminders"
CELERY = str(ROOT / ".venv" / "bin" / "celery")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reminders", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--smtp-port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    from pages import env_for, free_port, recreate_database

    recreate_database(DB)
    port = free_port()
    env = env_for(DB)
    env.update(
        EMAIL_BACKEND="core.mail.SMTPEmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(port),
        EMAIL_USE_TLS="0",
        STEPWISE_SMS_BACKEND="console",
        PYTHONUNBUFFERED="1",
    )
    cmd = [sys.executable, __file__, "--child", "--smtp-port", str(port)]
    cmd += ["--reminders", str(args.reminders), "--concurrency", str(args.concurrency)]
    cmd += ["--json", str(args.json)] if args.json else []
    sys.exit(subprocess.run(cmd, env=env, cwd=ROOT).returncode)


class Sink:
    """Counts every message the SMTP server accepts."""

    def __init__(self):
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook
        with self.lock:
            self.count += 1
        return "250 OK"


def rss_mb(pids) -> float:
    peak = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        peak = max(peak, int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)))
    return round(peak / 1024, 1)


def wait_for(predicate, limit: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def child(args) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    import django

    django.setup()
    from datetime import timedelta

    from aiosmtpd.controller import Controller
    from django.core.management import call_command
    from django.db.models import Count
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from bench.noop import COUNTER, client, noop
    from core.demo import seed_core
    from core.models import User
    from notifications.models import Channel, Kind, Notification, NotificationPreference, Status
    from notifications.outbox import SEND_BATCH, notifications_dispatch_due
    from notifications.sources.sessions import SESSION
    from scheduling import demo as scheduling_demo
    from scheduling.models import Session

    now = timezone.now()
    core = seed_core("bench-password-2026", now)
    scheduling_demo.seed_setup(core)
    session = Session.objects.filter(starts_at__gt=now + timedelta(hours=6)).order_by("pk").first()
    if session is None:
        raise SystemExit("no future session to remind of")
    n = args.reminders
    users = User.objects.bulk_create(
        [
            User(username=f"bench_r{i}", first_name="Sam", email=f"r{i}@example.org")
            for i in range(n)
        ],
        batch_size=5000,
    )
    NotificationPreference.objects.bulk_create(
        [
            NotificationPreference(
                user=u, channel=Channel.EMAIL, quiet_start=None, quiet_end=None, updated_at=now
            )
            for u in users
        ],
        batch_size=5000,
    )
    due = now - timedelta(minutes=1)
    Notification.objects.bulk_create(
        [
            Notification(
                kind=Kind.SESSION_REMINDER,
                recipient=u,
                channel=Channel.EMAIL,
                object_type=SESSION,
                object_id=session.pk,
                due_at=due,
                deliver_after=due,
                dedupe_key=f"bench:{u.pk}",
                payload={"at": session.starts_at.isoformat()},
                created_at=now,
                updated_at=now,
            )
            for u in users
        ],
        batch_size=5000,
    )

    redis = client()
    redis.delete(COUNTER)
    worker = subprocess.Popen(
        [
            CELERY,
            "-A",
            "clinic",
            "worker",
            "-P",
            "prefork",
            "-c",
            str(args.concurrency),
            "-I",
            "bench.noop",
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
            "-l",
            "WARNING",
            "-n",
            f"bench-reminders-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
        start_new_session=True,
    )

    def noop_rate() -> tuple[int, float]:
        redis.delete(COUNTER)
        t0 = time.perf_counter()
        with noop.app.producer_or_acquire() as producer:
            for i in range(n):
                noop.apply_async((i,), producer=producer)
        wait_for(lambda: int(redis.get(COUNTER) or 0) >= n, 600)
        return int(redis.get(COUNTER) or 0), time.perf_counter() - t0

    def reminder_rate(count_sent) -> dict:
        # Every row back to due and unsent: each sink gets the same 10,000 reminders.
        Notification.objects.update(
            status=Status.PENDING,
            queued_at=None,
            claim_token="",
            claimed_at=None,
            attempts=0,
            sent_at=None,
            subject="",
            body="",
            last_error="",
        )
        t0 = time.perf_counter()
        dispatched = 0
        while True:
            batch = notifications_dispatch_due(now=timezone.now())
            if not batch:
                break
            dispatched += len(batch)

        def finished():
            return not Notification.objects.filter(
                status__in=(Status.PENDING, Status.SENDING)
            ).exists()

        wait_for(finished, 1800, step=0.25)
        seconds = time.perf_counter() - t0
        by_status = dict(Notification.objects.values_list("status").annotate(n=Count("pk")))
        sent = by_status.get(Status.SENT, 0)
        return {
            "dispatched": dispatched,
            "sent": sent,
            "smtp_messages": count_sent(),
            "statuses": by_status,
            "reminders_seconds": round(seconds, 2),
            "reminders_per_s": round(sent / seconds, 1),
        }

    runs = {}
    try:
        # Warm-up: the pool is up and has run a task in each process.
        for i in range(20):
            noop.delay(i)
        if not wait_for(lambda: int(redis.get(COUNTER) or 0) >= 20, 120):
            raise SystemExit("the worker did not start")

        for sink_name in ("aiosmtpd", "lean"):
            noop_done, noop_s = noop_rate()
            if sink_name == "aiosmtpd":
                sink = Sink()
                controller = Controller(sink, hostname="127.0.0.1", port=args.smtp_port)
                controller.start()
                try:
                    run = reminder_rate(lambda s=sink: s.count)
                finally:
                    controller.stop()
            else:
                count_file = ROOT / "bench" / "out" / "sink-count.txt"
                count_file.parent.mkdir(parents=True, exist_ok=True)
                # A file left by an earlier run would look like a sink already listening.
                count_file.unlink(missing_ok=True)
                lean = subprocess.Popen(
                    [sys.executable, str(ROOT / "bench" / "smtp_sink.py"), str(args.smtp_port)]
                    + [str(count_file)]
                )
                try:
                    wait_for(count_file.exists, 10)
                    run = reminder_rate(lambda f=count_file: int(f.read_text() or 0))
                finally:
                    lean.send_signal(signal.SIGTERM)
                    lean.wait(timeout=10)
                run["smtp_messages"] = int(count_file.read_text() or 0)
            run.update(
                noop_tasks=noop_done,
                noop_seconds=round(noop_s, 2),
                noop_per_s=round(noop_done / noop_s, 1),
                ratio_to_noop=round(run["reminders_per_s"] / (noop_done / noop_s), 3),
            )
            runs[sink_name] = run
        children = subprocess.run(
            ["pgrep", "-P", str(worker.pid)], capture_output=True, text=True
        ).stdout.split()
        worker_rss = rss_mb([worker.pid, *map(int, children)])
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
    main_run = runs["aiosmtpd"]
    out = {
        "reminders": n,
        "concurrency": args.concurrency,
        "batch_size": SEND_BATCH,
        # The headline figures are with aiosmtpd, the sink the tests use.
        **main_run,
        "lean_sink": runs["lean"],
        "celery_worker_peak_rss_mb": worker_rss,
    }
    print(json.dumps(out, indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
