"""Check-ins (``measures.Administration``): one neutral reminder when a sitting falls
due ("You have a short check-in to complete"), on the due day's morning, or at once for
one a staff member asks for later in the day; cancelled once it is completed or expired.

One per sitting: its due time is fixed by the sitting (so the outbox's unique key keeps
a re-plan from adding another), and ``Administration.reminded_at`` is stamped by a
conditional UPDATE the first time it is planned.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, time, timedelta

from core import clock
from core.clock import local_datetime
from measures.models import Administration

from ..models import Kind, Notification
from ..outbox import Planned, pending_object_ids, sync_object_reminders
from ..preferences import preferences_for
from ..registry import Recheck, ReminderSource, register
from .common import patient_plan, portal_user, reachable

ADMINISTRATION = "measures.Administration"
CHECKIN_AT = time(10, 0)
# A sitting older than this is not reminded any more (the sweep expires it anyway).
LOOKBACK_DAYS = 7
OPEN = (Administration.Status.DUE, Administration.Status.IN_PROGRESS)


def due_at(administration: Administration) -> datetime:
    morning = local_datetime(administration.due_on, CHECKIN_AT, administration.patient.site.tz)
    return max(morning, administration.created_at)


def plan_checkins(
    administration_ids: Iterable[int] | None = None, *, now: datetime | None = None
) -> int:
    now = clock.now(now)
    if administration_ids is None:
        since = clock.now(now).date() - timedelta(days=LOOKBACK_DAYS + 1)
        administration_ids = set(
            Administration.objects.filter(status__in=OPEN, due_on__gte=since).values_list(
                "pk", flat=True
            )
        ) | pending_object_ids([Kind.CHECKIN_DUE], ADMINISTRATION)
    administrations = list(
        Administration.objects.filter(pk__in=set(administration_ids)).select_related(
            "patient__site"
        )
    )
    patients = reachable({a.patient_id for a in administrations})
    prefs = preferences_for(portal_user(p) for p in patients.values())
    planned_ids: list[int] = []
    for a in administrations:
        patient = patients.get(a.patient_id)
        planned: list[Planned] = []
        today = clock.site_today(a.patient.site, now)
        if (
            a.status in OPEN
            and patient is not None
            and a.due_on >= today - timedelta(days=LOOKBACK_DAYS)
        ):
            pref = prefs[portal_user(patient).pk]
            planned.append(
                patient_plan(
                    Kind.CHECKIN_DUE, patient, due_at(a), pref, {"due_date": a.due_on.isoformat()}
                )
            )
            planned_ids.append(a.pk)
        sync_object_reminders(
            kind=Kind.CHECKIN_DUE,
            object_type=ADMINISTRATION,
            object_id=a.pk,
            planned=planned,
            now=now,
            reason="check-in completed, expired or patient unreachable",
        )
    if planned_ids:
        Administration.objects.filter(pk__in=planned_ids, reminded_at__isnull=True).update(
            reminded_at=now
        )
    return len(administrations)


def plan_for_patient(patient_id: int, now: datetime) -> None:
    plan_checkins(
        Administration.objects.filter(patient_id=patient_id, status__in=OPEN).values_list(
            "pk", flat=True
        ),
        now=now,
    )


def still_applies(rows: Sequence[Notification], now: datetime) -> dict[int, Recheck]:
    """The sitting is still open."""
    open_ids = set(
        Administration.objects.filter(
            pk__in={r.object_id for r in rows}, status__in=OPEN
        ).values_list("pk", flat=True)
    )
    return {row.pk: (row.object_id in open_ids, {}) for row in rows}


SOURCE = register(
    ReminderSource(
        name="checkins",
        kinds=frozenset({Kind.CHECKIN_DUE}),
        object_types=frozenset({ADMINISTRATION}),
        sweeps=(plan_checkins,),
        plan_patient=plan_for_patient,
        still_applies=still_applies,
    )
)
