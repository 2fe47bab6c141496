"""Kinds whose source lives in other apps: scheduling (session reminders, cancellation
notices), drugtests (selections, alerts) and recovery (homework, meeting requirements).
Read-only use of their models (and of the audit rows their services write); nothing in
those apps is edited.

Those apps write some rows with ``bulk_create``/``update`` (no ``post_save``), so each
kind is planned three ways: a ``post_save`` hook on commit where there is one, a sweep
on every beat tick for the time-critical kinds (the check-in notice, its deadline
reminder, staff alerts: at most a minute late), and the hourly full re-plan. Every
planner is idempotent (``services.sync_object_reminders``), so running all three costs
nothing but queries. At send time ``still_applies`` re-checks the source, so a reminder
for something that changed a moment ago is cancelled rather than sent.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta

from django.utils import timezone

from core import clock
from core.clock import local_datetime
from patients.models import OPEN_STATUSES, Patient

from . import services
from .models import Kind, Notification, NotificationPreference, SiteNotificationSettings, Status

logger = logging.getLogger(__name__)

SESSION = "scheduling.Session"
SELECTION = "drugtests.Selection"
ALERT = "drugtests.TestAlert"
HOMEWORK = "recovery.HomeworkAssignment"
PATIENT_WEEK = "patients.Patient"
STAFF_USER = "core.User"
ATTENDANCE = "scheduling.Attendance"

# ``scheduling.services.session_cancel`` writes this audit row in the transaction of
# the cancellation: the one record of who cancelled a session and when (a session that
# was created cancelled, for a holiday already known, has none and is not announced).
SESSION_CANCELLED_ACTION = "session.cancelled"
# The hourly re-plan looks this far back for cancellations whose on-commit task was lost.
CANCELLATION_LOOKBACK = timedelta(days=1)
# Sessions are planned once they start within the longest offset plus this margin
# (the hourly re-plan then sees each one at least twice before its first reminder).
SESSION_MARGIN = timedelta(hours=3)
DEFAULT_OFFSETS = [24, 2]
TEST_DEADLINE_BEFORE = timedelta(hours=2)
HOMEWORK_DUE_AT = time(17, 0)  # the day before the due date: 24 h before a 17:00 hand-in
HOMEWORK_OVERDUE_AT = time(9, 0)  # the morning after the due date
HOMEWORK_OVERDUE_NAG_DAYS = 7
SHORTFALL_WEEKDAY, SHORTFALL_AT = 4, time(12, 0)  # Friday noon, site time


# --- helpers -------------------------------------------------------------------


def _reachable(patient_ids) -> dict[int, Patient]:
    """Patients with a portal account and an open episode of care (one query)."""
    if not patient_ids:
        return {}
    return {
        p.pk: p
        for p in Patient.objects.filter(
            pk__in=set(patient_ids),
            user__isnull=False,
            is_archived=False,
            enrollments__status__in=OPEN_STATUSES,
        )
        .select_related("site", "user")
        .distinct()
    }


def _prefs(users) -> dict[int, NotificationPreference]:
    ids = {u.pk for u in users}
    found = {p.user_id: p for p in NotificationPreference.objects.filter(user_id__in=ids)}
    for user in users:
        found.setdefault(user.pk, services.preference_for_default(user))
    return found


def _patient_plan(kind, patient, due_at, pref, payload) -> services.Planned:
    return services.Planned(
        kind=kind,
        recipient=patient.user,
        patient=patient,
        due_at=due_at,
        payload=payload,
        channels=services.channels_for(patient.user, pref, patient),
        pref=pref,
    )


def _pending_object_ids(kinds, object_type) -> set[int]:
    return set(
        Notification.objects.filter(
            kind__in=kinds, object_type=object_type, status=Status.PENDING
        ).values_list("object_id", flat=True)
    )


# --- sessions ------------------------------------------------------------------


def plan_sessions(session_ids=None, *, now: datetime | None = None) -> int:
    """Session reminders N hours before (per site, default 24 h and 2 h)."""
    from scheduling.models import Session, SessionStatus
    from scheduling.selectors import rosters_for_sessions

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
        ) | _pending_object_ids([Kind.SESSION_REMINDER], SESSION)
    sessions = list(
        Session.objects.filter(pk__in=set(session_ids)).select_related("site", "patient")
    )
    if not sessions:
        return 0
    live = [s for s in sessions if s.status == SessionStatus.SCHEDULED and s.starts_at > now]
    rosters = rosters_for_sessions(live) if live else {}
    reachable = _reachable({p.pk for roster in rosters.values() for p in roster})
    prefs = _prefs([p.user for p in reachable.values()])
    offsets = {
        s.site_id: s.offsets
        for s in SiteNotificationSettings.objects.filter(site_id__in={x.site_id for x in sessions})
    }
    for session in sessions:
        planned = []
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
                if patient.pk not in reachable:
                    continue
                patient = reachable[patient.pk]
                for due_at in chosen:
                    planned.append(
                        _patient_plan(
                            Kind.SESSION_REMINDER,
                            patient,
                            due_at,
                            prefs[patient.user_id],
                            {"at": session.starts_at.isoformat()},
                        )
                    )
        services.sync_object_reminders(
            kind=Kind.SESSION_REMINDER,
            object_type=SESSION,
            object_id=session.pk,
            planned=planned,
            now=now,
            reason="session cancelled or moved, or patient no longer on its roster",
        )
    return len(sessions)


def _cancelled_at(session_ids) -> dict[int, datetime]:
    """When each session was cancelled through ``session_cancel`` (the latest time, if
    it was ever cancelled twice). The instant is the notice's due time, so re-planning
    at any later time computes the same dedupe key and adds nothing."""
    from core.models import AuditEvent

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


def plan_session_cancellations(session_ids=None, *, now: datetime | None = None) -> int:
    """Tell every patient expected at a cancelled session (its roster on the day, or the
    individual session's patient) that it will not take place: one notice per patient
    and channel, due at the cancellation. Only for sessions not yet started; a notice
    still pending when the session starts is withdrawn (it would only confuse)."""
    from core.models import AuditEvent
    from scheduling.models import Session, SessionStatus
    from scheduling.selectors import rosters_for_sessions

    now = clock.now(now)
    if session_ids is None:
        recent = AuditEvent.objects.filter(
            action=SESSION_CANCELLED_ACTION,
            object_type=SESSION,
            at__gte=now - CANCELLATION_LOOKBACK,
        ).values_list("object_id", flat=True)
        session_ids = {int(pk) for pk in recent} | _pending_object_ids(
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
    reachable = _reachable({p.pk for roster in rosters.values() for p in roster})
    prefs = _prefs([p.user for p in reachable.values()])
    for session in sessions:
        planned = [
            _patient_plan(
                Kind.SESSION_CANCELLED,
                reachable[patient.pk],
                cancelled_at[session.pk],
                prefs[reachable[patient.pk].user_id],
                {"at": session.starts_at.isoformat()},
            )
            for patient in rosters.get(session.pk, [])
            if patient.pk in reachable
        ]
        services.sync_object_reminders(
            kind=Kind.SESSION_CANCELLED,
            object_type=SESSION,
            object_id=session.pk,
            planned=planned,
            now=now,
            reason="session started, or patient no longer on its roster",
        )
    return len(sessions)


# --- drug tests ----------------------------------------------------------------


def plan_draw(draw_id: int, *, now: datetime | None = None) -> int:
    """Check-in notices for every selection of one draw, planned when the draw commits."""
    from drugtests.models import Selection

    ids = list(Selection.objects.filter(draw_id=draw_id).values_list("pk", flat=True))
    return plan_selections(ids, now=now) if ids else 0


def plan_selections(selection_ids=None, *, now: datetime | None = None) -> int:
    """The check-in notice at the draw (with the deadline), and a reminder 2 h before
    the deadline; both cancelled once the test is collected, excused or missed."""
    from drugtests.models import Selection

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
        selection_ids = new | _pending_object_ids(kinds, SELECTION)
    from drugtests.selectors import notice_at

    selections = list(Selection.objects.filter(pk__in=set(selection_ids)).select_related("site"))
    reachable = _reachable({s.patient_id for s in selections})
    prefs = _prefs([p.user for p in reachable.values()])
    for sel in selections:
        wanted = {Kind.DRUG_TEST_NOTICE: [], Kind.TEST_DEADLINE: []}
        patient = reachable.get(sel.patient_id)
        if sel.status == Selection.Status.PENDING and sel.deadline > now and patient is not None:
            pref = prefs[patient.user_id]
            payload = {"deadline": sel.deadline.isoformat()}
            # Due at the notice, not the draw: a draw before opening or after hours is
            # told when the site opens on the test's day, never in the night.
            notice = notice_at(sel, site=sel.site)
            wanted[Kind.DRUG_TEST_NOTICE].append(
                _patient_plan(Kind.DRUG_TEST_NOTICE, patient, notice, pref, payload)
            )
            reminder = sel.deadline - TEST_DEADLINE_BEFORE
            if reminder > notice:
                wanted[Kind.TEST_DEADLINE].append(
                    _patient_plan(Kind.TEST_DEADLINE, patient, reminder, pref, payload)
                )
        for kind, planned in wanted.items():
            services.sync_object_reminders(
                kind=kind,
                object_type=SELECTION,
                object_id=sel.pk,
                planned=planned,
                now=now,
                reason="test collected, excused, missed or patient unreachable",
            )
    return len(selections)


def plan_alerts(*, now: datetime | None = None) -> int:
    """Immediate staff alerts (unexpected positive, prescribed-but-absent, missed test,
    invalid specimen, opioid positive) to the patient's primary counselor."""
    from drugtests.models import TestAlert

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
    prefs = _prefs(counselors)
    for alert in alerts:
        counselor = alert.patient.primary_counselor
        if counselor is None or not counselor.is_active:
            continue
        pref = prefs[counselor.pk]
        services.sync_object_reminders(
            kind=Kind.STAFF_ALERT,
            object_type=ALERT,
            object_id=alert.pk,
            planned=[
                services.Planned(
                    kind=Kind.STAFF_ALERT,
                    recipient=counselor,
                    patient=alert.patient,
                    due_at=alert.created_at,
                    payload={"alert": alert.kind},
                    channels=services.channels_for(counselor, pref, None),
                    pref=pref,
                )
            ],
            now=now,
        )
    return len(alerts)


# As the dashboard's rule: an absence a month before is not "in a row".
ABSENCE_LOOKBACK_DAYS = 28


def _previous_statuses(rows) -> dict[int, str]:
    """Each attendance row's previous recorded status for the same patient, by session
    start, in one query. Cancelled sessions neither count nor break a streak: the same
    rule as the dashboard's ``scheduling.selectors.unexcused_streaks``."""
    from scheduling.models import Attendance, SessionStatus

    if not rows:
        return {}
    earliest = min(a.session.starts_at for a in rows) - timedelta(days=ABSENCE_LOOKBACK_DAYS)
    history: dict[int, list[tuple[datetime, str]]] = {}
    for patient_id, starts_at, status in (
        Attendance.objects.filter(
            patient_id__in={a.patient_id for a in rows},
            session__status=SessionStatus.SCHEDULED,
            session__starts_at__gte=earliest,
        )
        .order_by("patient_id", "-session__starts_at")
        .values_list("patient_id", "session__starts_at", "status")
    ):
        history.setdefault(patient_id, []).append((starts_at, status))
    previous = {}
    for att in rows:
        for starts_at, status in history.get(att.patient_id, []):
            if starts_at < att.session.starts_at:
                previous[att.pk] = status
                break
    return previous


def plan_absence_alerts(attendance_ids=None, *, now: datetime | None = None) -> int:
    """Staff alert when a patient's attendance record is the second unexcused absence
    in a row (by session start). A corrected record cancels a pending alert."""
    from scheduling.models import Attendance, AttendanceStatus, SessionStatus

    now = clock.now(now)
    if attendance_ids is None:
        attendance_ids = set(
            Attendance.objects.filter(
                status=AttendanceStatus.UNEXCUSED, updated_at__gte=now - timedelta(days=1)
            ).values_list("pk", flat=True)
        ) | _pending_object_ids([Kind.STAFF_ALERT], ATTENDANCE)
    rows = list(
        Attendance.objects.filter(pk__in=set(attendance_ids)).select_related(
            "session", "patient__site", "patient__primary_counselor"
        )
    )
    previous_status = _previous_statuses(rows)
    for att in rows:
        planned = []
        counselor = att.patient.primary_counselor
        if (
            att.status == AttendanceStatus.UNEXCUSED
            and att.session.status == SessionStatus.SCHEDULED
            and counselor is not None
            and counselor.is_active
        ):
            previous = previous_status.get(att.pk)
            if previous == AttendanceStatus.UNEXCUSED:
                pref = services.preference_for(counselor)
                planned.append(
                    services.Planned(
                        kind=Kind.STAFF_ALERT,
                        recipient=counselor,
                        patient=att.patient,
                        due_at=max(att.recorded_at, att.session.ends_at),
                        payload={"alert": "two_unexcused_absences"},
                        channels=services.channels_for(counselor, pref, None),
                        pref=pref,
                    )
                )
        services.sync_object_reminders(
            kind=Kind.STAFF_ALERT,
            object_type=ATTENDANCE,
            object_id=att.pk,
            planned=planned,
            now=now,
            reason="attendance corrected",
        )
    return len(rows)


# --- homework ------------------------------------------------------------------


def plan_homework(assignment_ids=None, *, now: datetime | None = None) -> int:
    from recovery.models import OPEN_HOMEWORK_STATUSES, HomeworkAssignment

    now = clock.now(now)
    kinds = [Kind.HOMEWORK_DUE, Kind.HOMEWORK_OVERDUE]
    if assignment_ids is None:
        horizon = timezone.localdate(now) - timedelta(days=HOMEWORK_OVERDUE_NAG_DAYS + 1)
        assignment_ids = set(
            HomeworkAssignment.objects.filter(
                status__in=OPEN_HOMEWORK_STATUSES, due_date__gte=horizon
            ).values_list("pk", flat=True)
        ) | _pending_object_ids(kinds, HOMEWORK)
    assignments = list(
        HomeworkAssignment.objects.filter(pk__in=set(assignment_ids)).select_related("site")
    )
    reachable = _reachable({a.patient_id for a in assignments})
    prefs = _prefs([p.user for p in reachable.values()])
    for a in assignments:
        wanted = {Kind.HOMEWORK_DUE: [], Kind.HOMEWORK_OVERDUE: []}
        patient = reachable.get(a.patient_id)
        today = timezone.localdate(now, a.site.tz)
        if a.status in OPEN_HOMEWORK_STATUSES and patient is not None:
            pref = prefs[patient.user_id]
            payload = {"due_date": a.due_date.isoformat()}
            if a.due_date >= today:
                due_at = local_datetime(a.due_date - timedelta(days=1), HOMEWORK_DUE_AT, a.site.tz)
                wanted[Kind.HOMEWORK_DUE].append(
                    _patient_plan(Kind.HOMEWORK_DUE, patient, due_at, pref, payload)
                )
            if today <= a.due_date + timedelta(days=HOMEWORK_OVERDUE_NAG_DAYS):
                due_at = local_datetime(
                    a.due_date + timedelta(days=1), HOMEWORK_OVERDUE_AT, a.site.tz
                )
                wanted[Kind.HOMEWORK_OVERDUE].append(
                    _patient_plan(Kind.HOMEWORK_OVERDUE, patient, due_at, pref, payload)
                )
        for kind, planned in wanted.items():
            services.sync_object_reminders(
                kind=kind,
                object_type=HOMEWORK,
                object_id=a.pk,
                planned=planned,
                now=now,
                reason="homework handed in, accepted or patient unreachable",
            )
    return len(assignments)


# --- weekly meeting shortfall ----------------------------------------------------


def _friday_noon(now: datetime, tz) -> datetime:
    today = timezone.localdate(now, tz)
    friday = today - timedelta(days=today.weekday()) + timedelta(days=SHORTFALL_WEEKDAY)
    return local_datetime(friday, SHORTFALL_AT, tz)


def plan_meeting_shortfall(*, now: datetime | None = None, patient_ids=None) -> int:
    """One check per patient per week at Friday noon; sent only if, at that moment, the
    patient has logged fewer meetings than required (``still_applies``)."""
    now = clock.now(now)
    qs = Patient.objects.filter(
        user__isnull=False, is_archived=False, enrollments__status__in=OPEN_STATUSES
    )
    if patient_ids is not None:
        qs = qs.filter(pk__in=patient_ids)
    patients = list(qs.select_related("site", "user").distinct())
    prefs = _prefs([p.user for p in patients])
    for patient in patients:
        friday = _friday_noon(now, patient.site.tz)
        planned = []
        if friday + timedelta(hours=1) > now:
            planned.append(
                _patient_plan(Kind.MEETING_SHORTFALL, patient, friday, prefs[patient.user_id], {})
            )
        services.sync_object_reminders(
            kind=Kind.MEETING_SHORTFALL,
            object_type=PATIENT_WEEK,
            object_id=patient.pk,
            planned=planned,
            now=now,
        )
    return len(patients)


# --- staff morning digest --------------------------------------------------------


def plan_digests(*, now: datetime | None = None) -> int:
    from core.models import User

    now = clock.now(now)
    staff = list(
        User.objects.filter(is_active=True, staff_profile__isnull=False).prefetch_related(
            "staff_profile__sites"
        )
    )
    settings_by_site = {s.site_id: s for s in SiteNotificationSettings.objects.all()}
    prefs = _prefs(staff)
    for user in staff:
        sites = sorted(user.staff_profile.sites.all(), key=lambda s: s.pk)
        if not sites:
            continue
        site = sites[0]
        at = settings_by_site.get(site.pk)
        digest_time = at.digest_at if at else time(7, 30)
        day = timezone.localdate(now, site.tz)
        due_at = local_datetime(day, digest_time, site.tz)
        planned = []
        if due_at + timedelta(hours=2) > now:
            pref = prefs[user.pk]
            planned.append(
                services.Planned(
                    kind=Kind.STAFF_DIGEST,
                    recipient=user,
                    due_at=due_at,
                    payload={"day": day.isoformat()},
                    channels=services.channels_for(user, pref, None),
                    pref=pref,
                    tz=site.tz,
                )
            )
        services.sync_object_reminders(
            kind=Kind.STAFF_DIGEST,
            object_type=STAFF_USER,
            object_id=user.pk,
            planned=planned,
            now=now,
        )
    return len(staff)


# --- send-time check -------------------------------------------------------------


def still_applies(row: Notification, now: datetime) -> tuple[bool, dict]:
    """Re-check the source right before sending: (applies, extra template facts)."""
    return still_applies_many([row], now)[row.pk]


def still_applies_many(rows, now: datetime) -> dict[int, tuple[bool, dict]]:
    """``still_applies`` for a batch of rows: one query per kind of source, not per row."""
    from drugtests.models import Selection
    from patients.models import MedicationOrder
    from recovery.models import OPEN_HOMEWORK_STATUSES, HomeworkAssignment
    from scheduling.models import Session, SessionStatus

    def ids(object_type):
        return {r.object_id for r in rows if r.object_type == object_type}

    selections = {
        s["pk"]: s["status"] == Selection.Status.PENDING and s["deadline"] > now
        for s in Selection.objects.filter(pk__in=ids(SELECTION)).values("pk", "status", "deadline")
    }
    sessions = {
        s["pk"]: s
        for s in Session.objects.filter(pk__in=ids(SESSION)).values("pk", "status", "starts_at")
    }
    homework = dict(
        HomeworkAssignment.objects.filter(pk__in=ids(HOMEWORK)).values_list("pk", "status")
    )
    orders = {
        o["pk"]: o
        for o in MedicationOrder.objects.filter(pk__in=ids("patients.MedicationOrder")).values(
            "pk", "next_injection_due", "stop_date"
        )
    }
    result: dict[int, tuple[bool, dict]] = {}
    for row in rows:
        if row.object_type == SELECTION:
            result[row.pk] = selections.get(row.object_id, False), {}
        elif row.object_type == SESSION:
            # A reminder is for a session still on; a cancellation notice for one still
            # cancelled. Either is pointless once the session's start has passed.
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
        elif row.object_type == HOMEWORK:
            result[row.pk] = homework.get(row.object_id) in OPEN_HOMEWORK_STATUSES, {}
        elif row.object_type == "patients.MedicationOrder":
            order = orders.get(row.object_id)
            due = (row.payload or {}).get("due_date")
            result[row.pk] = (
                bool(
                    order
                    and order["next_injection_due"]
                    and order["next_injection_due"].isoformat() == due
                    and (
                        order["stop_date"] is None
                        or order["stop_date"] >= order["next_injection_due"]
                    )
                ),
                {},
            )
        elif row.kind == Kind.MEETING_SHORTFALL and row.patient is not None:
            from recovery.selectors import compliance_weeks

            # Rare (one per patient a week, on Friday): per row is fine.
            (week,) = compliance_weeks(row.patient, weeks=1, now=now)
            if week.required <= 0 or week.logged >= week.required:
                result[row.pk] = False, {}
            else:
                result[row.pk] = True, {"logged": week.logged, "required": week.required}
        else:
            result[row.pk] = True, {}
    return result


# --- entry points ------------------------------------------------------------------


def tick(*, now: datetime) -> None:
    """Every beat tick: the kinds that cannot wait for the hourly re-plan."""
    for planner in (plan_selections, plan_alerts):
        try:
            planner(now=now)
        except Exception:  # one failing source must not stop the dispatch of the others
            logger.exception("notifications: %s failed in the tick", planner.__name__)


def plan_patient_ext(patient_id: int, *, now: datetime) -> None:
    """After a discharge, hold or preference change: re-plan this patient's sources."""
    from drugtests.models import Selection
    from recovery.models import OPEN_HOMEWORK_STATUSES, HomeworkAssignment
    from scheduling.models import Session, SessionStatus

    plan_selections(
        Selection.objects.filter(patient_id=patient_id, deadline__gt=now).values_list(
            "pk", flat=True
        ),
        now=now,
    )
    plan_homework(
        HomeworkAssignment.objects.filter(
            patient_id=patient_id, status__in=OPEN_HOMEWORK_STATUSES
        ).values_list("pk", flat=True),
        now=now,
    )
    session_ids = set(
        Notification.objects.filter(
            patient_id=patient_id, kind=Kind.SESSION_REMINDER, status=Status.PENDING
        ).values_list("object_id", flat=True)
    ) | set(
        Session.objects.filter(patient_id=patient_id, starts_at__gt=now).values_list(
            "pk", flat=True
        )
    )
    plan_sessions(session_ids, now=now)
    # A changed channel or a discharge changes the cancellation notices not sent yet.
    plan_session_cancellations(
        set(
            Notification.objects.filter(
                patient_id=patient_id, kind=Kind.SESSION_CANCELLED, status=Status.PENDING
            ).values_list("object_id", flat=True)
        )
        | set(
            Session.objects.filter(
                patient_id=patient_id, starts_at__gt=now, status=SessionStatus.CANCELLED
            ).values_list("pk", flat=True)
        ),
        now=now,
    )
    plan_meeting_shortfall(now=now, patient_ids=[patient_id])


def replan_all_ext(*, now: datetime) -> dict:
    done = {}
    for planner in (
        plan_sessions,
        plan_session_cancellations,
        plan_selections,
        plan_alerts,
        plan_absence_alerts,
        plan_homework,
        plan_meeting_shortfall,
        plan_digests,
    ):
        try:
            done[planner.__name__] = planner(now=now)
        except Exception:
            logger.exception("notifications: %s failed in the re-plan", planner.__name__)
            done[planner.__name__] = "failed"
    return done


# --- hooks (connected from apps.ready through hooks.connect) ------------------------


def connect() -> None:
    from django.db.models.signals import post_save

    from drugtests.models import Selection
    from recovery.models import HomeworkAssignment
    from scheduling.models import Attendance, Session, SessionStatus

    from . import hooks

    def on_session(sender, instance, raw=False, **kwargs):
        if raw:
            return
        hooks.enqueue("plan_session", instance.pk)  # withdraws reminders of a cancelled one
        if instance.status == SessionStatus.CANCELLED:
            # Scheduling sends no signal of its own for a cancellation; the planner tells
            # a cancellation made by session_cancel from a session created cancelled.
            hooks.enqueue("plan_session_cancelled", instance.pk)

    def on_selection(sender, instance, raw=False, **kwargs):
        if not raw:
            hooks.enqueue("plan_selection", instance.pk)

    def on_homework(sender, instance, raw=False, **kwargs):
        if not raw:
            hooks.enqueue("plan_homework", instance.pk)

    def on_attendance(sender, instance, raw=False, **kwargs):
        if not raw:
            hooks.enqueue("plan_absence_alert", instance.pk)

    post_save.connect(on_attendance, sender=Attendance, weak=False, dispatch_uid="notif_att")
    post_save.connect(on_session, sender=Session, weak=False, dispatch_uid="notif_session")
    post_save.connect(on_selection, sender=Selection, weak=False, dispatch_uid="notif_selection")
    post_save.connect(on_homework, sender=HomeworkAssignment, weak=False, dispatch_uid="notif_hw")

    from drugtests.signals import draw_completed

    def on_draw(sender, draw, **kwargs):
        # One planning task per draw (its selections were inserted in bulk), on commit.
        hooks.enqueue("plan_draw", draw.pk)

    draw_completed.connect(on_draw, weak=False, dispatch_uid="notif_draw")
