"""The precomputed weekly hours (``WeeklyHours``): kept true by every attendance write and
rebuilt from the attendance rows for a date range by bulk writers and the command.

A week's row is always recomputed whole from the source rows, never incremented: a
missed or repeated refresh leaves the right figure after the next one. Weeks are the
site-local Monday to Sunday of each session's ``local_date``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Sum

from core import audit, clock
from core.clock import week_start
from core.models import User

from ..models import ATTENDED_STATUSES, Attendance, SessionStatus, WeeklyHours

Key = tuple[int, date]  # (patient id, site-local Monday)


def _attended(
    *, first: date, last: date, patient_ids: Iterable[int] | None
) -> dict[Key, list[int]]:
    """Attended minutes per day (Monday first) of each (patient, week) with any, from the
    attendance rows; the same rows ``selectors.hours.weekly_hours`` counts."""
    rows = Attendance.objects.filter(
        session__local_date__gte=first,
        session__local_date__lte=last,
        status__in=ATTENDED_STATUSES,
    ).exclude(session__status=SessionStatus.REMOVED)
    if patient_ids is not None:
        rows = rows.filter(patient_id__in=list(patient_ids))
    weeks: dict[Key, list[int]] = {}
    for patient_id, day, minutes in (
        rows.values("patient_id", "session__local_date")
        .annotate(minutes=Sum("minutes_credited"))
        .order_by()
        .values_list("patient_id", "session__local_date", "minutes")
    ):
        days = weeks.setdefault((patient_id, week_start(day)), [0] * 7)
        days[day.weekday()] += minutes or 0
    return weeks


def _lock(keys: list[Key], now: datetime) -> dict[Key, WeeklyHours]:
    """The rows of ``keys``, created when missing, locked in one order (patient, week), so
    two writers of the same week wait for each other and the second one recomputes from
    what the first committed (a new statement under READ COMMITTED sees it)."""
    if not keys:
        return {}
    WeeklyHours.objects.bulk_create(
        [
            WeeklyHours(patient_id=p, week_start=w, day_minutes=[0] * 7, updated_at=now)
            for p, w in sorted(keys)
        ],
        ignore_conflicts=True,
        batch_size=2000,
    )
    patient_ids = {p for p, _ in keys}
    weeks = {w for _, w in keys}
    locked = (
        WeeklyHours.objects.select_for_update()
        .filter(patient_id__in=patient_ids, week_start__in=weeks)
        .order_by("patient_id", "week_start")
    )
    wanted = set(keys)
    return {
        (r.patient_id, r.week_start): r for r in locked if (r.patient_id, r.week_start) in wanted
    }


def _store(rows: dict[Key, WeeklyHours], attended: dict[Key, list[int]], now: datetime) -> int:
    changed = []
    for key, row in rows.items():
        days = attended.get(key, [0] * 7)
        total = sum(days)
        if row.attended_minutes == total and row.day_minutes == days:
            continue
        row.attended_minutes, row.day_minutes, row.updated_at = total, days, now
        changed.append(row)
    WeeklyHours.objects.bulk_update(
        changed, ["attended_minutes", "day_minutes", "updated_at"], batch_size=2000
    )
    return len(changed)


@transaction.atomic
def weekly_hours_refresh(*, patient_id: int, day: date, now: datetime | None = None) -> None:
    """Recompute the week containing ``day`` (a session's site-local date) for one patient.
    Called by the attendance services in their transaction, after the attendance write."""
    now = clock.now(now)
    monday = week_start(day)
    rows = _lock([(patient_id, monday)], now)
    attended = _attended(first=monday, last=monday + timedelta(days=6), patient_ids=[patient_id])
    _store(rows, attended, now)


@transaction.atomic
def weekly_hours_rebuild(
    *,
    actor: User | None = None,
    first: date,
    last: date,
    patient_ids: Iterable[int] | None = None,
    now: datetime | None = None,
) -> int:
    """Recompute every week from the one containing ``first`` to the one containing
    ``last`` (of ``patient_ids``, or everyone) from the attendance rows. Idempotent: a
    second run changes nothing. Returns the number of rows written."""
    now = clock.now(now)
    monday, sunday = week_start(first), week_start(last) + timedelta(days=6)
    ids = None if patient_ids is None else sorted(set(patient_ids))
    stored = WeeklyHours.objects.filter(week_start__gte=monday, week_start__lte=sunday)
    if ids is not None:
        stored = stored.filter(patient_id__in=ids)
    # Rows already there that may have to go back to zero, and the weeks with attendance.
    keys = set(stored.values_list("patient_id", "week_start"))
    keys |= set(_attended(first=monday, last=sunday, patient_ids=ids))
    rows = _lock(sorted(keys), now)
    # Counted after the locks: an attendance write that committed meanwhile is included.
    written = _store(rows, _attended(first=monday, last=sunday, patient_ids=ids), now)
    audit.record(
        action="scheduling.weekly_hours_rebuilt",
        actor=actor,
        detail={"first": monday.isoformat(), "last": sunday.isoformat(), "written": written},
    )
    return written
