"""Random drug-test draws: the check-in notice at the draw (with the deadline) and a
reminder 2 h before the deadline (``drugtests.Selection``).

A draw inserts its selections in bulk (no ``post_save``) and sends ``draw_completed``:
the whole draw is planned once it commits, and every beat tick sweeps for selections
not planned yet (at most a minute late).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from core import clock
from drugtests.models import Selection
from drugtests.selectors import notice_at

from ..models import Kind, Notification
from ..outbox import Planned, pending_object_ids, sync_object_reminders
from ..preferences import preferences_for
from ..registry import Recheck, ReminderSource, register
from .common import patient_plan, portal_user, reachable

SELECTION = "drugtests.Selection"
TEST_DEADLINE_BEFORE = timedelta(hours=2)


def plan_draw(draw_id: int, *, now: datetime | None = None) -> int:
    """Check-in notices for every selection of one draw, planned when the draw commits."""
    ids = list(Selection.objects.filter(draw_id=draw_id).values_list("pk", flat=True))
    return plan_selections(ids, now=now) if ids else 0


def plan_selections(
    selection_ids: Iterable[int] | None = None, *, now: datetime | None = None
) -> int:
    """The check-in notice at the draw (with the deadline), and a reminder 2 h before
    the deadline; both cancelled once the test is collected, excused or missed."""
    now = clock.now(now)
    kinds = [Kind.DRUG_TEST_NOTICE, Kind.TEST_DEADLINE]
    if selection_ids is None:
        planned_ids = Notification.objects.filter(
            kind=Kind.DRUG_TEST_NOTICE, object_type=SELECTION
        ).values("object_id")
        new = set(
            Selection.objects.filter(
                status=Selection.Status.PENDING,
                deadline__gt=now,
                created_at__gte=now - timedelta(days=2),
            )
            .exclude(pk__in=planned_ids)
            .values_list("pk", flat=True)
        )
        selection_ids = new | pending_object_ids(kinds, SELECTION)
    selections = list(Selection.objects.filter(pk__in=set(selection_ids)).select_related("site"))
    patients = reachable({s.patient_id for s in selections})
    prefs = preferences_for(portal_user(p) for p in patients.values())
    for sel in selections:
        wanted: dict[str, list[Planned]] = {Kind.DRUG_TEST_NOTICE: [], Kind.TEST_DEADLINE: []}
        patient = patients.get(sel.patient_id)
        if sel.status == Selection.Status.PENDING and sel.deadline > now and patient is not None:
            pref = prefs[portal_user(patient).pk]
            payload = {"deadline": sel.deadline.isoformat()}
            # Due at the notice, not the draw: a draw before opening or after hours is
            # told when the site opens on the test's day, never in the night.
            notice = notice_at(sel, site=sel.site)
            wanted[Kind.DRUG_TEST_NOTICE].append(
                patient_plan(Kind.DRUG_TEST_NOTICE, patient, notice, pref, payload)
            )
            reminder = sel.deadline - TEST_DEADLINE_BEFORE
            if reminder > notice:
                wanted[Kind.TEST_DEADLINE].append(
                    patient_plan(Kind.TEST_DEADLINE, patient, reminder, pref, payload)
                )
        for kind, planned in wanted.items():
            sync_object_reminders(
                kind=kind,
                object_type=SELECTION,
                object_id=sel.pk,
                planned=planned,
                now=now,
                reason="test collected, excused, missed or patient unreachable",
            )
    return len(selections)


def plan_for_patient(patient_id: int, now: datetime) -> None:
    plan_selections(
        Selection.objects.filter(patient_id=patient_id, deadline__gt=now).values_list(
            "pk", flat=True
        ),
        now=now,
    )


def still_applies(rows: Sequence[Notification], now: datetime) -> dict[int, Recheck]:
    """The test is still to be collected and its deadline has not passed."""
    pending: dict[int | None, bool] = {
        s["pk"]: s["status"] == Selection.Status.PENDING and s["deadline"] > now
        for s in Selection.objects.filter(pk__in={r.object_id for r in rows}).values(
            "pk", "status", "deadline"
        )
    }
    return {row.pk: (pending.get(row.object_id, False), {}) for row in rows}


SOURCE = register(
    ReminderSource(
        name="draws",
        kinds=frozenset({Kind.DRUG_TEST_NOTICE, Kind.TEST_DEADLINE}),
        object_types=frozenset({SELECTION}),
        sweeps=(plan_selections,),
        every_tick=(plan_selections,),
        plan_patient=plan_for_patient,
        still_applies=still_applies,
    )
)
