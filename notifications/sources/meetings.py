"""The weekly meeting shortfall: one check per patient a week at Friday noon, sent only
if at that moment the patient has logged fewer meetings than required."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from core import clock
from core.clock import local_datetime
from patients.models import OPEN_STATUSES, Patient
from recovery.selectors import compliance_weeks

from ..models import Kind, Notification
from ..outbox import Planned, sync_object_reminders
from ..preferences import preferences_for
from ..registry import Recheck, ReminderSource, register
from .common import patient_plan, portal_user

PATIENT_WEEK = "patients.Patient"
SHORTFALL_WEEKDAY, SHORTFALL_AT = 4, time(12, 0)  # Friday noon, site time


def _friday_noon(now: datetime, tz: ZoneInfo) -> datetime:
    today = timezone.localdate(now, tz)
    friday = today - timedelta(days=today.weekday()) + timedelta(days=SHORTFALL_WEEKDAY)
    return local_datetime(friday, SHORTFALL_AT, tz)


def plan_meeting_shortfall(
    *, now: datetime | None = None, patient_ids: Iterable[int] | None = None
) -> int:
    """This week's check at Friday noon for every reachable patient (``still_applies``
    decides at that moment whether it goes out)."""
    now = clock.now(now)
    qs = Patient.objects.filter(
        user__isnull=False, is_archived=False, enrollments__status__in=OPEN_STATUSES
    )
    if patient_ids is not None:
        qs = qs.filter(pk__in=patient_ids)
    patients = list(qs.select_related("site", "user").distinct())
    prefs = preferences_for(portal_user(p) for p in patients)
    for patient in patients:
        friday = _friday_noon(now, patient.site.tz)
        planned: list[Planned] = []
        if friday + timedelta(hours=1) > now:
            planned.append(
                patient_plan(
                    Kind.MEETING_SHORTFALL, patient, friday, prefs[portal_user(patient).pk], {}
                )
            )
        sync_object_reminders(
            kind=Kind.MEETING_SHORTFALL,
            object_type=PATIENT_WEEK,
            object_id=patient.pk,
            planned=planned,
            now=now,
        )
    return len(patients)


def plan_for_patient(patient_id: int, now: datetime) -> None:
    plan_meeting_shortfall(now=now, patient_ids=[patient_id])


def still_applies(rows: Sequence[Notification], now: datetime) -> dict[int, Recheck]:
    """Fewer meetings logged this week than required, with the figures for the text."""
    result: dict[int, Recheck] = {}
    for row in rows:
        if row.kind != Kind.MEETING_SHORTFALL or row.patient is None:
            result[row.pk] = True, {}
            continue
        # Rare (one per patient a week, on Friday): per row is fine.
        (week,) = compliance_weeks(row.patient, weeks=1, now=now)
        if week.required <= 0 or week.logged >= week.required:
            result[row.pk] = False, {}
        else:
            result[row.pk] = True, {"logged": week.logged, "required": week.required}
    return result


SOURCE = register(
    ReminderSource(
        name="meetings",
        kinds=frozenset({Kind.MEETING_SHORTFALL}),
        object_types=frozenset({PATIENT_WEEK}),
        sweeps=(plan_meeting_shortfall,),
        plan_patient=plan_for_patient,
        still_applies=still_applies,
    )
)
