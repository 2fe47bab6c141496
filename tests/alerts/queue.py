"""The staff home's queue as a test reads it: the sweep first (what the beat does every
15 minutes), then the rows."""

from __future__ import annotations

from datetime import datetime

from alerts.services import alerts_sweep
from dashboard.panels import alerts_for


def swept(user, now: datetime | None = None):
    alerts_sweep(now=now)
    return alerts_for(user, now=now)
