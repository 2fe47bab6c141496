"""Start a real ``celery -A clinic worker`` subprocess against the test database."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection
from django.utils import timezone

ROOT = Path(__file__).resolve().parents[2]
# celery itself, started on the test's frozen clock (tests/frozen_celery.py)
CELERY = [sys.executable, "-m", "tests.frozen_celery"]


def test_database_url() -> str:
    """The pytest database (``test_<name>``) as a URL for another process."""
    s = connection.settings_dict
    auth = quote(s["USER"], safe="") + (
        f":{quote(s['PASSWORD'], safe='')}" if s.get("PASSWORD") else ""
    )
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def worker_env(smtp_port: int) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        DATABASE_URL=test_database_url(),
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        EMAIL_BACKEND="core.mail.SMTPEmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_port),
        EMAIL_USE_TLS="0",
        STEPWISE_SMS_BACKEND="console",
        SECRET_KEY="crash-test-" + "k" * 60,
        DEBUG="0",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
        STEPWISE_FROZEN_AT=timezone.now().isoformat(),
    )
    return env


def start_worker(env: dict, log_path: Path, concurrency: int = 2) -> subprocess.Popen:
    """Prefork worker in its own process group (so the whole group can be killed)."""
    log = log_path.open("ab")
    return subprocess.Popen(
        [
            *CELERY,
            "-A",
            "clinic",
            "worker",
            "-P",
            "prefork",
            "-c",
            str(concurrency),
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
            "-l",
            "WARNING",
            "-n",
            f"crash-{uuid.uuid4().hex[:8]}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def kill_group(proc: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)
