"""What more than one kind of scheduling read needs."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from patients.models import TrackMembership


def _covering(
    memberships: Iterable[TrackMembership], track_id: int | None, on: date
) -> list[TrackMembership]:
    return [m for m in memberships if m.track_id == track_id and m.covers(on)]
