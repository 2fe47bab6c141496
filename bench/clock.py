"""The benchmark's clock: every process of a page run (seeder, context builder, gunicorn
workers) sees the same clinic weekday, whatever day the run happens on.

``BENCH_NOW`` (ISO 8601 with an offset; default a Wednesday mid-morning in New York) is
the instant the run starts at; the clock then ticks on. ``BENCH_CLOCK_STARTED`` (a real
epoch, set once by ``bench/pages.py``) makes processes started later read the same
ticking clock rather than each starting again at ``BENCH_NOW``. ``BENCH_NOW=real`` keeps
the wall clock (figures then depend on the day: on a weekend the drug-test day list is
empty, on a weekday afternoon it holds the whole draw).

time-machine moves the wall clock only (``time.time``, ``datetime.now``...): gunicorn's
worker heartbeat and every duration measured with ``time.monotonic``/``perf_counter``
are untouched.
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta

# Wednesday 18 November 2026, 10:00 in New York (07:00 in Los Angeles): both sites'
# morning draws are made, Riverside's collections are under way.
DEFAULT_NOW = "2026-11-18T10:00:00-05:00"


def bench_now(environ: os._Environ[str] | dict[str, str] = os.environ) -> datetime | None:
    """The instant the run is pinned to, or None for the wall clock."""
    value = environ.get("BENCH_NOW", DEFAULT_NOW).strip()
    if value.lower() in ("", "real", "0", "off"):
        return None
    at = datetime.fromisoformat(value)
    if at.tzinfo is None:
        raise ValueError(f"BENCH_NOW needs a UTC offset: {value!r}")
    return at


def destination(environ: os._Environ[str] | dict[str, str] = os.environ) -> datetime | None:
    """Where this process's clock belongs: ``BENCH_NOW`` plus the real time elapsed since
    the run's clock started (``BENCH_CLOCK_STARTED``), or None for the wall clock."""
    at = bench_now(environ)
    if at is None:
        return None
    started = float(environ.get("BENCH_CLOCK_STARTED") or time.time())
    return at + timedelta(seconds=max(0.0, time.time() - started))


def start(environ: os._Environ[str] | dict[str, str] = os.environ) -> datetime | None:
    """Move this process's wall clock to the run's clock (ticking); returns where it went.

    The first process anchors the clock for the processes it starts (a Celery worker, a
    seeder): they inherit ``BENCH_CLOCK_STARTED`` and read the same time, not their own
    ``BENCH_NOW`` each."""
    if bench_now(environ) is not None:
        environ.setdefault("BENCH_CLOCK_STARTED", str(time.time()))
    at = destination(environ)
    if at is not None:
        import time_machine

        time_machine.travel(at, tick=True).start()
    return at
