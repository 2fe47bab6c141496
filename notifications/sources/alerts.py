"""Staff alerts to the patient's primary counselor: a drug-test alert (unexpected
positive, prescribed-but-absent, missed test, invalid specimen, opioid positive) as
soon as it is raised, and the second unexcused absence in a row."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from core import clock
from drugtests.models import TestAlert
from scheduling.models import Attendance, AttendanceStatus, SessionStatus
from scheduling.selectors.streaks import unexcused_streaks

from ..models import Kind, Notification
from ..outbox import Planned, pending_object_ids, sync_object_reminders
from ..preferences import channels_for, preference_for, preferences_for
from ..registry import ReminderSource, register

ALERT = "drugtests.TestAlert"
ATTENDANCE = "scheduling.Attendance"


def plan_alerts(*, now: datetime | None = None) -> int:
    """Immediate staff alerts for the drug-test alerts of the last day."""
    now = clock.now(now)
    planned_ids = Notification.objects.filter(kind=Kind.STAFF_ALERT, object_type=ALERT).values(
        "object_id"
    )
    alerts = list(
        TestAlert.objects.filter(created_at__gte=now - timedelta(days=1), resolved_at__isnull=True)
        .exclude(pk__in=planned_ids)
        .select_related("patient__site", "patient__primary_counselor")
    )
    counselors = [
        a.patient.primary_counselor
        for a in alerts
        if a.patient.primary_counselor and a.patient.primary_counselor.is_active
    ]
    prefs = preferences_for(counselors)
    for alert in alerts:
        counselor = alert.patient.primary_counselor
        if counselor is None or not counselor.is_active:
            continue
        pref = prefs[counselor.pk]
        sync_object_reminders(
            kind=Kind.STAFF_ALERT,
            object_type=ALERT,
            object_id=alert.pk,
            planned=[
                Planned(
                    kind=Kind.STAFF_ALERT,
                    recipient=counselor,
                    patient=alert.patient,
                    due_at=alert.created_at,
                    payload={"alert": alert.kind},
                    channels=channels_for(counselor, pref, None),
                    pref=pref,
                )
            ],
            now=now,
        )
    return len(alerts)


def plan_absence_alerts(
    attendance_ids: Iterable[int] | None = None, *, now: datetime | None = None
) -> int:
    """Staff alert when a patient's attendance record is the second unexcused absence in a
    row (by session start; the rule of ``scheduling.selectors.streaks.unexcused_streaks``).
    A corrected record cancels a pending alert."""
    now = clock.now(now)
    if attendance_ids is None:
        attendance_ids = set(
            Attendance.objects.filter(
                status=AttendanceStatus.UNEXCUSED, updated_at__gte=now - timedelta(days=1)
            ).values_list("pk", flat=True)
        ) | pending_object_ids([Kind.STAFF_ALERT], ATTENDANCE)
    rows = list(
        Attendance.objects.filter(pk__in=set(attendance_ids)).select_related(
            "session", "patient__site", "patient__primary_counselor"
        )
    )
    in_a_row = {
        (s.patient_id, s.last_session_id) for s in unexcused_streaks(ending_with=rows, at_least=2)
    }
    for att in rows:
        planned = []
        counselor = att.patient.primary_counselor
        if (
            att.status == AttendanceStatus.UNEXCUSED
            and att.session.status == SessionStatus.SCHEDULED
            and counselor is not None
            and counselor.is_active
            and (att.patient_id, att.session_id) in in_a_row
        ):
            pref = preference_for(counselor)
            planned.append(
                Planned(
                    kind=Kind.STAFF_ALERT,
                    recipient=counselor,
                    patient=att.patient,
                    due_at=max(att.recorded_at, att.session.ends_at),
                    payload={"alert": "two_unexcused_absences"},
                    channels=channels_for(counselor, pref, None),
                    pref=pref,
                )
            )
        sync_object_reminders(
            kind=Kind.STAFF_ALERT,
            object_type=ATTENDANCE,
            object_id=att.pk,
            planned=planned,
            now=now,
            reason="attendance corrected",
        )
    return len(rows)


SOURCE = register(
    ReminderSource(
        name="alerts",
        kinds=frozenset({Kind.STAFF_ALERT}),
        # An alert goes out once raised, whatever happened since: no re-check.
        object_types=frozenset({ALERT, ATTENDANCE}),
        sweeps=(plan_alerts, plan_absence_alerts),
        every_tick=(plan_alerts,),
    )
)
