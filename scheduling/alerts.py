"""Scheduling alert rules for the staff home's alert queue (attendance and hours).

Each rule runs a fixed number of queries for any number of patients. Keys name the
occurrence (the latest missed session, the week, the last contact), so a dismissal
never hides a later occurrence, and resolving the data (a corrected attendance mark)
makes the alert disappear on its own.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, TypedDict

from django.db.models import Exists, Max, OuterRef, Q, QuerySet, Subquery
from django.urls import reverse

from core.alerts import Alert, rule, rules_now
from core.clock import week_start
from core.formats import format_day
from patients.alerts import chart_url
from patients.compliance import ComplianceStatus
from patients.models import EnrollmentStatus, Patient, TrackMembership

from .models import ATTENDED_STATUSES, Attendance, Session, SessionStatus
from .selectors.hours import WeekHours, weekly_hours
from .selectors.streaks import unexcused_streaks

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _Admitted(TypedDict):
    admitted: date


NO_CONTACT_DAYS = 7


def _active(patients: QuerySet[Patient]) -> QuerySet[WithAnnotations[Patient, _Admitted]]:
    """The given patients with an ACTIVE enrollment (on hold: not expected to attend),
    annotated with its admission date. ``patients`` may carry joins that repeat rows,
    so it is used as a subquery of ids."""
    return (
        Patient.objects.filter(pk__in=patients.values("pk"))
        .filter(enrollments__status=EnrollmentStatus.ACTIVE)
        .annotate(admitted=Max("enrollments__admission_date"))
    )


def _noon_utc(day: date) -> datetime:
    # ``weekly_hours`` only uses ``now`` through its site-local date (sessions from that
    # date on are still to come) and to tell whether a week is over: noon UTC falls on
    # the same calendar date in every zone from UTC-11 to UTC+11, whatever the site.
    return datetime.combine(day, time(12), tzinfo=UTC)


@rule(order=40)
def unexcused_streak(patients: QuerySet[Patient], today: date) -> list[Alert]:
    """Two (or more) unexcused absences in a row: the classic reason a counselor acts."""
    ids = list(patients.order_by().values_list("pk", flat=True).distinct())
    streaks = unexcused_streaks(ids, at_least=2, today=today) if ids else []
    if not streaks:
        return []
    names = {
        p.pk: p.display_name for p in Patient.objects.filter(pk__in=[s.patient_id for s in streaks])
    }
    return [
        Alert(
            key=f"unexcused:{s.patient_id}:{s.last_session_id}",
            kind="unexcused_streak",
            severity="danger",
            patient_id=s.patient_id,
            patient_name=names[s.patient_id],
            message=(
                f"{s.count} unexcused absences in a row "
                f"(latest {format_day(s.last_date, year=False)})"
            ),
            action_url=reverse("scheduling:attendance", args=[s.last_session_id]),
            action_label="Review the attendance",
        )
        for s in streaks
    ]


def _hours_alert(row: WeekHours, *, this_week: bool) -> Alert:
    p = row.patient
    if this_week:
        reachable = row.attended_minutes + row.remaining_minutes
        message = (
            f"At risk this week: {row.attended_hours} h attended, at most "
            f"{row.hours(reachable)} h of the {row.minimum_hours} h minimum reachable"
        )
    else:
        message = (
            f"Below the weekly minimum in the week of {format_day(row.monday, year=False)}: "
            f"{row.attended_hours} of {row.minimum_hours} h"
        )
    if row.scheduled_minutes < row.minimum_minutes:
        # Cancellations, holidays or a missing track: the schedule itself falls short.
        message += f" (only {row.scheduled_hours} h scheduled)"
    return Alert(
        key=f"hours:{p.pk}:{row.monday.isoformat()}",
        kind="hours_at_risk" if this_week else "hours_below",
        severity="warning",
        patient_id=p.pk,
        patient_name=p.display_name,
        message=message,
        action_url=chart_url(p.pk),
        action_label="Open the chart",
    )


@rule(order=40)
def weekly_hours_short(patients: QuerySet[Patient], today: date) -> list[Alert]:
    """This week at risk (the minimum is out of reach) and last week below the minimum.

    Weeks start on Monday, in the site's time zone (``weekly_hours``). A week the patient
    was admitted in part-way is not judged: nobody can reach a full week's minimum then.
    """
    monday = week_start(today)
    last_monday = monday - timedelta(days=7)
    people = list(_active(patients).filter(admitted__lte=monday).select_related("site"))
    if not people:
        return []
    now = _noon_utc(today)
    alerts = [
        _hours_alert(row, this_week=True)
        for row in weekly_hours(people, monday, now=now)
        if row.status == ComplianceStatus.AT_RISK
    ]
    before = [p for p in people if p.admitted <= last_monday]
    if before:
        alerts += [
            _hours_alert(row, this_week=False)
            for row in weekly_hours(before, last_monday, now=now)
            if row.status == ComplianceStatus.BELOW
        ]
    return alerts


@rule(order=40)
def no_contact(patients: QuerySet[Patient], today: date) -> list[Alert]:
    """No attended session for 7 days for an active patient admitted more than 7 days ago
    (on hold is excluded: the patient is not expected)."""
    cutoff = today - timedelta(days=NO_CONTACT_DAYS)
    attended = Attendance.objects.filter(
        status__in=list(ATTENDED_STATUSES),
        session__status=SessionStatus.SCHEDULED,
        session__local_date__lte=today,
    )
    last_seen = (
        attended.filter(patient=OuterRef("pk"))
        .order_by("-session__local_date")
        .values("session__local_date")[:1]
    )
    rows = (
        _active(patients)
        .filter(admitted__lt=cutoff)
        # Most patients were seen this week: rule them out with one scan of the window,
        # so the last-contact lookup only runs for the few who were not.
        # (A correlated NOT EXISTS: probes each patient's attendance by index instead of
        # hashing the whole clinic's week, which grew with the clinic's size.)
        .exclude(Exists(attended.filter(patient=OuterRef("pk"), session__local_date__gt=cutoff)))
        .annotate(last_seen=Subquery(last_seen))
        .order_by("pk")
    )
    alerts = []
    for p in rows:
        # Contact from an earlier episode of care does not count for this one.
        seen = p.last_seen if p.last_seen and p.last_seen >= p.admitted else None
        if seen is not None and seen > cutoff:
            continue
        since = seen or p.admitted
        message = (
            f"No attended session for {(today - seen).days} days "
            f"(last {format_day(seen, year=False)})"
            if seen
            else f"No attended session since admission on {format_day(p.admitted, year=False)}"
        )
        alerts.append(
            Alert(
                key=f"nocontact:{p.pk}:{since.isoformat()}",
                kind="no_contact",
                severity="warning",
                patient_id=p.pk,
                patient_name=p.display_name,
                message=message,
                action_url=chart_url(p.pk),
                action_label="Open the chart",
            )
        )
    return alerts


# A session's attendance is owed until it is taken; after a week the sheet is history
# (the edit window has long closed) and the alert goes with it.
ATTENDANCE_OWED_DAYS = 7


@rule(order=41)
def attendance_not_taken(patients: QuerySet[Patient], today: date) -> list[Alert]:
    """A session past its end with no attendance mark for a patient on its roster; owned
    by the session's facilitator, resolved when the mark is recorded. Three queries."""
    now = rules_now()
    since = today - timedelta(days=ATTENDANCE_OWED_DAYS)
    ids = list(patients.order_by().values_list("pk", flat=True).distinct())
    if not ids:
        return []
    memberships = list(
        TrackMembership.objects.filter(patient_id__in=ids, start_date__lte=today)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=since))
        .select_related("patient")
    )
    sessions = list(
        Session.objects.filter(
            status=SessionStatus.SCHEDULED,
            local_date__gte=since,
            local_date__lte=today,
            ends_at__lte=now,
        )
        .filter(Q(track_id__in={m.track_id for m in memberships}) | Q(patient_id__in=ids))
        .select_related("patient")
        .order_by("starts_at", "pk")
    )
    if not sessions:
        return []
    taken = set(
        Attendance.objects.filter(
            session_id__in=[s.pk for s in sessions], patient_id__in=ids
        ).values_list("session_id", "patient_id")
    )
    alerts = []
    for s in sessions:
        expected = {
            m.patient_id: m.patient
            for m in memberships
            if m.track_id == s.track_id and s.track_id is not None and m.covers(s.local_date)
        }
        if s.patient_id in ids and s.patient is not None:
            expected[s.patient_id] = s.patient
        for pid, p in sorted(expected.items()):
            if (s.pk, pid) in taken:
                continue
            alerts.append(
                Alert(
                    key=f"attendance_not_taken:{s.pk}:{pid}",
                    kind="attendance_not_taken",
                    severity="warning",
                    patient_id=pid,
                    patient_name=p.display_name,
                    message=(
                        f"Attendance not taken for the {s.get_kind_display().lower()} of "
                        f"{format_day(s.local_date, year=False)}"
                    ),
                    action_url=reverse("scheduling:attendance", args=[s.pk]),
                    action_label="Take the attendance",
                    owner_id=s.facilitator_id,
                    due=s.local_date,
                )
            )
    return alerts


@rule(order=42)
def schedule_short(patients: QuerySet[Patient], today: date) -> list[Alert]:
    """This week's schedule (track sessions and individual ones, less cancellations)
    cannot reach the weekly minimum of the patient's level of care, however well they
    attend. Resolved when the schedule is fixed or the patient moved (another track or
    level). Five queries."""
    monday = week_start(today)
    people = list(_active(patients).filter(admitted__lte=monday).select_related("site"))
    if not people:
        return []
    return [
        Alert(
            key=f"schedule_short:{row.patient.pk}:{monday.isoformat()}",
            kind="schedule_short",
            severity="warning",
            patient_id=row.patient.pk,
            patient_name=row.patient.display_name,
            message=(
                f"Only {row.scheduled_hours} h scheduled this week: the "
                f"{row.level_short} minimum of {row.minimum_hours} h cannot be reached"
            ),
            action_url=chart_url(row.patient.pk),
            action_label="Open the chart",
            due=monday,
        )
        for row in weekly_hours(people, monday, now=_noon_utc(today))
        if row.minimum_minutes and row.scheduled_minutes < row.minimum_minutes
    ]
