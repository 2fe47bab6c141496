"""Follow-up signals for the staff home's alert rules and the counselor's reminder:
unexcused absences in a row."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ..models import Attendance, AttendanceStatus, SessionStatus

# "Two unexcused absences in a row" (DOMAIN.md): a cancelled session is not an
# absence, so it neither counts nor breaks a streak; and an absence more than four
# weeks before is not "in a row".
ABSENCE_LOOKBACK_DAYS = 28


@dataclass
class AbsenceStreak:
    patient_id: int
    count: int
    last_session_id: int
    last_date: date


@dataclass(frozen=True)
class _StreakEnd:
    patient_id: int
    day: date  # the look-back counts back from this site-local day
    starts_at: datetime | None = None  # only sessions started by then (None: all that day)
    session_id: int | None = None  # the streak must end at this session's attendance


def unexcused_streaks(
    patient_ids: Iterable[int] = (),
    *,
    today: date | None = None,
    ending_with: Iterable[Attendance] = (),
    at_least: int = 2,
    lookback_days: int = ABSENCE_LOOKBACK_DAYS,
) -> list[AbsenceStreak]:
    """Unexcused absences in a row (the classic "two no-shows in a row"), in one query.

    A streak ends either at each patient's latest recorded attendance up to ``today``
    (``patient_ids``: the staff home's alert), or at a given attendance row
    (``ending_with``, its ``session`` loaded: the counselor's reminder asks whether
    this absence is the second in a row). Only sessions that took place count;
    attendance more than ``lookback_days`` before the streak's end is not looked at.
    """
    ends = [_StreakEnd(pid, today) for pid in dict.fromkeys(patient_ids) if today is not None]
    ends += [
        _StreakEnd(a.patient_id, a.session.local_date, a.session.starts_at, a.session_id)
        for a in ending_with
    ]
    if not ends:
        return []
    history: dict[int, list[tuple[str, int, date, datetime]]] = defaultdict(list)
    for patient_id, status, session_id, day, starts_at in (
        Attendance.objects.filter(
            patient_id__in={e.patient_id for e in ends},
            session__local_date__gte=min(e.day for e in ends) - timedelta(days=lookback_days),
            session__local_date__lte=max(e.day for e in ends),
            session__status=SessionStatus.SCHEDULED,
        )
        .order_by("patient_id", "-session__starts_at")
        .values_list(
            "patient_id", "status", "session_id", "session__local_date", "session__starts_at"
        )
    ):
        history[patient_id].append((status, session_id, day, starts_at))
    streaks: list[AbsenceStreak] = []
    for end in sorted(ends, key=lambda e: e.patient_id):
        streak: AbsenceStreak | None = None
        for status, session_id, day, starts_at in history[end.patient_id]:
            if day > end.day or (end.starts_at is not None and starts_at > end.starts_at):
                continue  # after the streak's end
            if day < end.day - timedelta(days=lookback_days):
                break
            if streak is None and end.session_id is not None and session_id != end.session_id:
                break  # the given attendance is not on a session that took place
            if status != AttendanceStatus.UNEXCUSED:
                break
            if streak is None:
                streak = AbsenceStreak(end.patient_id, 1, session_id, day)
            else:
                streak.count += 1
        if streak is not None and streak.count >= at_least:
            streaks.append(streak)
    return streaks
