"""``celery`` for a test's worker subprocess, on the test's frozen clock.

A worker in another process would otherwise read the real date while the test that
started it reads the suite's frozen one, and leases, claims and due times would not
agree. The clock starts where the test's clock stood (``STEPWISE_FROZEN_AT``) and ticks
on; prefork children inherit it.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime

import time_machine
from celery.__main__ import main

if __name__ == "__main__":
    at = os.environ.get("STEPWISE_FROZEN_AT")
    if at:
        time_machine.travel(datetime.fromisoformat(at), tick=True).start()
    sys.argv[0] = "celery"
    sys.exit(main())
