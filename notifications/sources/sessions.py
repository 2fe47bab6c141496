"""Sessions: reminders N hours before (per site, default 24 h and 2 h), and the notice
that a session will not take place (``scheduling.Session``).

A session is planned on its ``post_save`` and in the hourly re-plan. A cancellation is
announced once ``scheduling.services.bookings.session_cancel`` has written its
``session.cancelled`` audit row (in the transaction of the cancellation): that row is the
one record of who cancelled a session and when; a session created cancelled, for a
holiday already known, has none and is not announced.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from core import clock
from core.models import AuditEvent
from scheduling.models import Session, SessionStatus
from scheduling.selectors.rosters import rosters_for_sessions

from ..models import Kind, Notification, SiteNotificationSettings, Status
from ..outbox import Planned, pending_object_ids, sync_object_reminders
from ..preferences import preferences_for
from ..registry import Recheck, ReminderSource, register
from .common import patient_plan, portal_user, reachable

SESSION = "scheduling.Session"
SESSION_CANCELLED_ACTION = "session.cancelled"
# The hourly re-plan looks this far back for cancellations whose on-commit task was lost.
CANCELLATION_LOOKBACK = timedelta(days=1)
# Sessions are planned once they start within the longest offset plus this margin
# (the hourly re-plan then sees each one at least twice before its first reminder).
SESSION_MARGIN = timedelta(hours=3)
DEFAULT_OFFSETS = [24, 2]


def plan_sessions(session_ids: Iterable[int] | None = None, *, now: datetime | None = None) -> int:
    """Session reminders N hours before (per site, default 24 h and 2 h)."""
    now = clock.now(now)
    if session_ids is None:
        longest = max(
            [h for s in SiteNotificationSettings.objects.all() for h in s.offsets] + DEFAULT_OFFSETS
        )
        session_ids = set(
            Session.objects.filter(
                status=SessionStatus.SCHEDULED,
                starts_at__gt=now,
                starts_at__lte=now + timedelta(hours=longest) + SESSION_MARGIN,
            ).values_list("pk", flat=True)
        ) | pending_object_ids([Kind.SESSION_REMINDER], SESSION)
    sessions = list(
        Session.objects.filter(pk__in=set(session_ids)).select_related("site", "patient")
    )
    if not sessions:
        return 0
    live = [s for s in sessions if s.status == SessionStatus.SCHEDULED and s.starts_at > now]
    rosters = rosters_for_sessions(live) if live else {}
    patients = reachable({p.pk for roster in rosters.values() for p in roster})
    prefs = preferences_for(portal_user(p) for p in patients.values())
    offsets = {
        s.site_id: s.offsets
        for s in SiteNotificationSettings.objects.filter(site_id__in={x.site_id for x in sessions})
    }
    for session in sessions:
        planned: list[Planned] = []
        if session in live:
            dues = [
                session.starts_at - timedelta(hours=h)
                for h in offsets.get(session.site_id, DEFAULT_OFFSETS)
            ]
            # Planned late (a session booked an hour ahead): only the nearest past
            # reminder goes out, not every one that is already overdue.
            past = [d for d in dues if d <= now]
            chosen = [d for d in dues if d > now] + ([max(past)] if past else [])
            for patient in rosters.get(session.pk, []):
                if patient.pk not in patients:
                    continue
                patient = patients[patient.pk]
                for due_at in chosen:
                    planned.append(
                        patient_plan(
                            Kind.SESSION_REMINDER,
                            patient,
                            due_at,
                            prefs[portal_user(patient).pk],
                            {"at": session.starts_at.isoformat()},
                        )
                    )
        sync_object_reminders(
            kind=Kind.SESSION_REMINDER,
            object_type=SESSION,
            object_id=session.pk,
            planned=planned,
            now=now,
            reason="session cancelled or moved, or patient no longer on its roster",
        )
    return len(sessions)


def _cancelled_at(session_ids: Iterable[int]) -> dict[int, datetime]:
    """When each session was cancelled through ``session_cancel`` (the latest time, if
    it was ever cancelled twice). The instant is the notice's due time, so re-planning
    at any later time computes the same dedupe key and adds nothing."""
    found: dict[int, datetime] = {}
    events = AuditEvent.objects.filter(
        action=SESSION_CANCELLED_ACTION,
        object_type=SESSION,
        object_id__in=[str(pk) for pk in session_ids],
    ).values_list("object_id", "at")
    for object_id, at in events:
        pk = int(object_id)
        found[pk] = max(found.get(pk, at), at)
    return found


def plan_session_cancellations(
    session_ids: Iterable[int] | None = None, *, now: datetime | None = None
) -> int:
    """Tell every patient expected at a cancelled session (its roster on the day, or the
    individual session's patient) that it will not take place: one notice per patient
    and channel, due at the cancellation. Only for sessions not yet started; a notice
    still pending when the session starts is withdrawn (it would only confuse)."""
    now = clock.now(now)
    if session_ids is None:
        recent = AuditEvent.objects.filter(
            action=SESSION_CANCELLED_ACTION,
            object_type=SESSION,
            at__gte=now - CANCELLATION_LOOKBACK,
        ).values_list("object_id", flat=True)
        session_ids = {int(pk) for pk in recent} | pending_object_ids(
            [Kind.SESSION_CANCELLED], SESSION
        )
    sessions = list(
        Session.objects.filter(pk__in=set(session_ids)).select_related("site", "patient")
    )
    if not sessions:
        return 0
    cancelled_at = _cancelled_at([s.pk for s in sessions])
    live = [
        s
        for s in sessions
        if s.status == SessionStatus.CANCELLED and s.starts_at > now and s.pk in cancelled_at
    ]
    rosters = rosters_for_sessions(live) if live else {}
    patients = reachable({p.pk for roster in rosters.values() for p in roster})
    prefs = preferences_for(portal_user(p) for p in patients.values())
    for session in sessions:
        planned = [
            patient_plan(
                Kind.SESSION_CANCELLED,
                patients[patient.pk],
                cancelled_at[session.pk],
                prefs[portal_user(patients[patient.pk]).pk],
                {"at": session.starts_at.isoformat()},
            )
            for patient in rosters.get(session.pk, [])
            if patient.pk in patients
        ]
        sync_object_reminders(
            kind=Kind.SESSION_CANCELLED,
            object_type=SESSION,
            object_id=session.pk,
            planned=planned,
            now=now,
            reason="session started, or patient no longer on its roster",
        )
    return len(sessions)


def plan_for_patient(patient_id: int, now: datetime) -> None:
    session_ids = {
        pk
        for pk in Notification.objects.filter(
            patient_id=patient_id, kind=Kind.SESSION_REMINDER, status=Status.PENDING
        ).values_list("object_id", flat=True)
        if pk is not None
    } | set(
        Session.objects.filter(patient_id=patient_id, starts_at__gt=now).values_list(
            "pk", flat=True
        )
    )
    plan_sessions(session_ids, now=now)
    # A changed channel or a discharge changes the cancellation notices not sent yet.
    plan_session_cancellations(
        {
            pk
            for pk in Notification.objects.filter(
                patient_id=patient_id, kind=Kind.SESSION_CANCELLED, status=Status.PENDING
            ).values_list("object_id", flat=True)
            if pk is not None
        }
        | set(
            Session.objects.filter(
                patient_id=patient_id, starts_at__gt=now, status=SessionStatus.CANCELLED
            ).values_list("pk", flat=True)
        ),
        now=now,
    )


def still_applies(rows: Sequence[Notification], now: datetime) -> dict[int, Recheck]:
    """A reminder is for a session still on; a cancellation notice for one still
    cancelled. Either is pointless once the session's start has passed."""
    sessions: dict[int | None, Mapping[str, Any]] = {
        s["pk"]: s
        for s in Session.objects.filter(pk__in={r.object_id for r in rows}).values(
            "pk", "status", "starts_at"
        )
    }
    result: dict[int, Recheck] = {}
    for row in rows:
        session = sessions.get(row.object_id)
        status = (
            SessionStatus.CANCELLED
            if row.kind == Kind.SESSION_CANCELLED
            else SessionStatus.SCHEDULED
        )
        result[row.pk] = (
            bool(session and session["status"] == status and session["starts_at"] > now),
            {},
        )
    return result


SOURCE = register(
    ReminderSource(
        name="sessions",
        kinds=frozenset({Kind.SESSION_REMINDER, Kind.SESSION_CANCELLED}),
        object_types=frozenset({SESSION}),
        sweeps=(plan_sessions, plan_session_cancellations),
        plan_patient=plan_for_patient,
        still_applies=still_applies,
    )
)
