"""Homework: a reminder the day before it is due, and a nudge the morning after while it
stays open (for a week) (``recovery.HomeworkAssignment``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, time, timedelta

from django.utils import timezone

from core import clock
from core.clock import local_datetime
from recovery.models import OPEN_HOMEWORK_STATUSES, HomeworkAssignment

from ..models import Kind, Notification
from ..outbox import Planned, pending_object_ids, sync_object_reminders
from ..preferences import preferences_for
from ..registry import Recheck, ReminderSource, register
from .common import patient_plan, portal_user, reachable

HOMEWORK = "recovery.HomeworkAssignment"
HOMEWORK_DUE_AT = time(17, 0)  # the day before the due date: 24 h before a 17:00 hand-in
HOMEWORK_OVERDUE_AT = time(9, 0)  # the morning after the due date
HOMEWORK_OVERDUE_NAG_DAYS = 7


def plan_homework(
    assignment_ids: Iterable[int] | None = None, *, now: datetime | None = None
) -> int:
    now = clock.now(now)
    kinds = [Kind.HOMEWORK_DUE, Kind.HOMEWORK_OVERDUE]
    if assignment_ids is None:
        horizon = timezone.localdate(now) - timedelta(days=HOMEWORK_OVERDUE_NAG_DAYS + 1)
        assignment_ids = set(
            HomeworkAssignment.objects.filter(
                status__in=OPEN_HOMEWORK_STATUSES, due_date__gte=horizon
            ).values_list("pk", flat=True)
        ) | pending_object_ids(kinds, HOMEWORK)
    assignments = list(
        HomeworkAssignment.objects.filter(pk__in=set(assignment_ids)).select_related("site")
    )
    patients = reachable({a.patient_id for a in assignments})
    prefs = preferences_for(portal_user(p) for p in patients.values())
    for a in assignments:
        wanted: dict[str, list[Planned]] = {Kind.HOMEWORK_DUE: [], Kind.HOMEWORK_OVERDUE: []}
        patient = patients.get(a.patient_id)
        today = timezone.localdate(now, a.site.tz)
        if a.status in OPEN_HOMEWORK_STATUSES and patient is not None:
            pref = prefs[portal_user(patient).pk]
            payload = {"due_date": a.due_date.isoformat()}
            if a.due_date >= today:
                due_at = local_datetime(a.due_date - timedelta(days=1), HOMEWORK_DUE_AT, a.site.tz)
                wanted[Kind.HOMEWORK_DUE].append(
                    patient_plan(Kind.HOMEWORK_DUE, patient, due_at, pref, payload)
                )
            if today <= a.due_date + timedelta(days=HOMEWORK_OVERDUE_NAG_DAYS):
                due_at = local_datetime(
                    a.due_date + timedelta(days=1), HOMEWORK_OVERDUE_AT, a.site.tz
                )
                wanted[Kind.HOMEWORK_OVERDUE].append(
                    patient_plan(Kind.HOMEWORK_OVERDUE, patient, due_at, pref, payload)
                )
        for kind, planned in wanted.items():
            sync_object_reminders(
                kind=kind,
                object_type=HOMEWORK,
                object_id=a.pk,
                planned=planned,
                now=now,
                reason="homework handed in, accepted or patient unreachable",
            )
    return len(assignments)


def plan_for_patient(patient_id: int, now: datetime) -> None:
    plan_homework(
        HomeworkAssignment.objects.filter(
            patient_id=patient_id, status__in=OPEN_HOMEWORK_STATUSES
        ).values_list("pk", flat=True),
        now=now,
    )


def still_applies(rows: Sequence[Notification], now: datetime) -> dict[int, Recheck]:
    """The assignment is still open."""
    open_ids = set(
        HomeworkAssignment.objects.filter(
            pk__in={r.object_id for r in rows}, status__in=OPEN_HOMEWORK_STATUSES
        ).values_list("pk", flat=True)
    )
    return {row.pk: (row.object_id in open_ids, {}) for row in rows}


SOURCE = register(
    ReminderSource(
        name="homework",
        kinds=frozenset({Kind.HOMEWORK_DUE, Kind.HOMEWORK_OVERDUE}),
        object_types=frozenset({HOMEWORK}),
        sweeps=(plan_homework,),
        plan_patient=plan_for_patient,
        still_applies=still_applies,
    )
)
