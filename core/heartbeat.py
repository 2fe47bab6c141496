"""The beat's heartbeat: written by a task beat schedules every minute, read by /healthz."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from . import clock
from .models import BeatHeartbeat


@transaction.atomic
def beat_heartbeat_record(*, now: datetime | None = None) -> BeatHeartbeat:
    # No audit row: this is the machinery's pulse, not a person's action, and a row a
    # minute would bury the trail.
    row, _ = BeatHeartbeat.objects.update_or_create(pk=1, defaults={"beat_at": clock.now(now)})
    return row


def beat_last_heartbeat() -> datetime | None:
    return BeatHeartbeat.objects.filter(pk=1).values_list("beat_at", flat=True).first()
