"""Two `celery beat` processes at once (a deployment mistake) must not send anything twice.

Runs, for a few minutes: two real ``celery -A clinic beat`` processes (each with its own
schedule file, both firing ``notifications.tasks.dispatch_due`` on every minute), one
prefork worker (concurrency 2, so both ticks run at the same moment), an SMTP sink on
loopback, and a feeder that keeps adding due reminders. At the end it waits for every
reminder to be sent and counts the emails by Message-ID (one per outbox row).

Needs PostgreSQL (SKIP LOCKED) and Redis; use a database and a Redis db of their own::

    createdb -h 127.0.0.1 -U postgres stepwise_beats
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/stepwise_beats \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/13 \\
    .venv/bin/python bench/crash_two_beats.py --minutes 3

Exit status 0 when every reminder arrived exactly once.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from email import message_from_bytes
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CELERY = str(Path(sys.executable).parent / "celery")


class Sink:
    def __init__(self):
        self.lock = threading.Lock()
        self.ids: list[str] = []

    async def handle_DATA(self, server, session, envelope):
        msg = message_from_bytes(envelope.content)
        with self.lock:
            self.ids.append(msg["Message-ID"])
        await asyncio.sleep(0.002)
        return "250 OK"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--batch", type=int, default=40, help="due reminders added every 5 s")
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not url.startswith("postgres") or not broker.startswith("redis"):
        print("set DATABASE_URL (postgres://...) and CELERY_BROKER_URL (redis://...)")
        return 2
    os.environ.setdefault("SECRET_KEY", "two-beats-bench-" + "x" * 50)
    os.environ.setdefault("AUDIT_KEYS", "bench:two-beats-bench-audit-" + "x" * 40)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, check=True
    )

    import django

    django.setup()
    import redis
    from aiosmtpd.controller import Controller
    from django.utils import timezone

    from core.models import User
    from notifications.models import Channel, Kind, Notification, NotificationPreference

    logging.getLogger("mail.log").setLevel(logging.WARNING)
    redis.Redis.from_url(broker).flushdb()
    sink = Sink()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()

    user, _ = User.objects.get_or_create(
        username="bench-two-beats", defaults={"email": "bench@example.org", "first_name": "Bench"}
    )
    NotificationPreference.objects.update_or_create(
        user=user,
        defaults={
            "channel": Channel.EMAIL,
            "quiet_start": None,
            "quiet_end": None,
            "updated_at": timezone.now(),
        },
    )
    run = int(time.time())
    object_type = f"bench.TwoBeats{run}"

    env = {
        **os.environ,
        "EMAIL_BACKEND": "core.mail.SMTPEmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(port),
        "LOG_LEVEL": "WARNING",
    }
    tmp = Path(tempfile.mkdtemp(prefix="two-beats-"))
    procs = []

    def spawn(*argv):
        log = (tmp / f"{argv[0]}-{len(procs)}.log").open("wb")
        procs.append(
            subprocess.Popen(
                [CELERY, "-A", "clinic", *argv],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )

    spawn(
        "worker",
        "-P",
        "prefork",
        "-c",
        "2",
        "--without-mingle",
        "--without-gossip",
        "-l",
        "WARNING",
    )
    spawn("beat", "-s", str(tmp / "beat-a"), "-l", "WARNING")
    spawn("beat", "-s", str(tmp / "beat-b"), "-l", "WARNING")
    print(f"two beats + one worker running for {args.minutes} min; logs in {tmp}")

    created = 0
    deadline = time.monotonic() + args.minutes * 60
    try:
        while time.monotonic() < deadline:
            now = timezone.now()
            Notification.objects.bulk_create(
                Notification(
                    kind=Kind.STAFF_ALERT,
                    recipient=user,
                    channel=Channel.EMAIL,
                    object_type=object_type,
                    object_id=created + i,
                    due_at=now,
                    deliver_after=now,
                    dedupe_key=f"{object_type}:{created + i}",
                    created_at=now,
                    updated_at=now,
                )
                for i in range(args.batch)
            )
            created += args.batch
            time.sleep(5)
        # Let the last rows be picked up by the next ticks and sent.
        rows = Notification.objects.filter(object_type=object_type)
        wait_until = time.monotonic() + 150
        while rows.exclude(status="sent").exists() and time.monotonic() < wait_until:
            time.sleep(2)
    finally:
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        controller.stop()

    expected = {f"<n{pk}@stepwise.notifications>" for pk in rows.values_list("pk", flat=True)}
    with sink.lock:
        counts = collections.Counter(i for i in sink.ids if i in expected)
    missing = len(expected - set(counts))
    duplicates = sum(c - 1 for c in counts.values())
    unsent = rows.exclude(status="sent").count()
    print(
        f"created {created}; emails {sum(counts.values())}; distinct {len(counts)}; "
        f"missing {missing}; duplicates {duplicates}; rows not sent {unsent}"
    )
    return 0 if missing == 0 and duplicates == 0 and unsent == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
