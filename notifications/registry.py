"""The reminder sources: what each one plans and how it re-checks a row at send time.

Each module under ``notifications/sources/`` describes one source (sessions, draws,
alerts, homework, meetings, medication, digests) as a ``ReminderSource`` and registers
it here on import; ``NotificationsConfig.ready()`` imports that package. The outbox
below knows nothing of the sources: it asks this registry whether a row still applies,
and the planning above asks it which planners to run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from .models import Notification

# (still applies, extra facts for the message template)
Recheck = tuple[bool, dict[str, Any]]


class Sweep(Protocol):
    """A planner run over everything it may concern (the tick, the hourly re-plan)."""

    __name__: str

    def __call__(self, *, now: datetime | None = ...) -> int: ...


@dataclass(frozen=True)
class ReminderSource:
    name: str
    kinds: frozenset[str]
    # Rows about these object types are re-checked by ``still_applies`` before sending.
    object_types: frozenset[str]
    # Run in the hourly re-plan (the safety net under the event-driven planning).
    sweeps: tuple[Sweep, ...]
    # Also run on every beat tick: sources written without a post_save, time-critical.
    every_tick: tuple[Sweep, ...] = ()
    # Re-plan one patient's reminders (a discharge, a hold, a preference change).
    plan_patient: Callable[[int, datetime], object] | None = None
    still_applies: Callable[[Sequence[Notification], datetime], dict[int, Recheck]] | None = None


_sources: dict[str, ReminderSource] = {}


def register(source: ReminderSource) -> ReminderSource:
    """Add a source; each kind and each re-checked object type belongs to one source."""
    for other in _sources.values():
        if other.name == source.name:
            if other == source:
                return source
            raise ValueError(f"reminder source {source.name!r} is registered twice")
        shared = (other.kinds & source.kinds) | (other.object_types & source.object_types)
        if shared:
            raise ValueError(
                f"{sorted(shared)} belong to both {other.name!r} and {source.name!r} sources"
            )
    _sources[source.name] = source
    return source


def sources() -> list[ReminderSource]:
    """Registered sources, in the order they registered."""
    return list(_sources.values())


def still_applies_many(rows: Sequence[Notification], now: datetime) -> dict[int, Recheck]:
    """Each row's re-check, asked of the source owning its object type (one call per
    source for the whole batch); a row no source owns still applies."""
    result: dict[int, Recheck] = {row.pk: (True, {}) for row in rows}
    for source in _sources.values():
        if source.still_applies is None:
            continue
        own = [row for row in rows if row.object_type in source.object_types]
        if own:
            result.update(source.still_applies(own, now))
    return result


def still_applies(row: Notification, now: datetime) -> Recheck:
    return still_applies_many([row], now)[row.pk]
