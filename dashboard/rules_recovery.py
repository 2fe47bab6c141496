"""Recovery alert rules for the staff home's alert queue: overdue homework, meeting
shortfall, and work waiting for the counselor's review.

Every rule runs a fixed number of queries for any number of patients. ``today`` is the
site-local date; meeting weeks start on Monday and their bounds are local midnights in
each patient's site time zone (``recovery.compliance``).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db.models import Count, Max, Min, Prefetch, QuerySet
from django.urls import reverse

from core.clock import week_bounds, week_start
from core.formats import format_day
from patients.compliance import ComplianceStatus
from patients.models import Enrollment, EnrollmentStatus, Patient
from recovery.compliance import WeekCompliance, requirement_for, week_compliance
from recovery.models import (
    OPEN_HOMEWORK_STATUSES,
    HomeworkAssignment,
    HomeworkSubmission,
    Meeting,
    MeetingRequirement,
    MeetingStatus,
)

from .rules import Alert, rule

# From Friday a shortfall is worth a call even if it could still be made up at the weekend.
SHORTFALL_FROM_WEEKDAY = 4


def _ids(patients: QuerySet[Patient]) -> QuerySet[Patient, Any]:
    return patients.order_by().values("pk")


def _recovery_url(patient_id: int, anchor: str = "") -> str:
    return reverse("recovery:patient", args=[patient_id]) + (f"#{anchor}" if anchor else "")


@rule
def overdue_homework(patients: QuerySet[Patient], today: date) -> list[Alert]:
    """Homework still to do (assigned, or returned for changes) after its due date.

    The key carries the number of rounds handed in, so homework that is submitted, returned
    and overdue again is a new occurrence; a dismissal of the first does not hide it."""
    rows = (
        HomeworkAssignment.objects.filter(
            patient_id__in=_ids(patients),
            status__in=OPEN_HOMEWORK_STATUSES,
            due_date__lt=today,
            patient__enrollments__status=EnrollmentStatus.ACTIVE,
        )
        .select_related("patient")
        .annotate(rounds=Count("submissions", distinct=True))
        .order_by("due_date", "pk")
    )
    alerts = []
    for hw in rows:
        days = (today - hw.due_date).days
        returned = " (returned for changes)" if hw.rounds else ""
        alerts.append(
            Alert(
                key=f"homework:{hw.pk}:{hw.rounds}",
                kind="homework_overdue",
                severity="warning",
                patient_id=hw.patient_id,
                patient_name=hw.patient.display_name,
                message=(
                    f"Homework “{hw.title}”{returned} overdue since "
                    f"{format_day(hw.due_date, year=False)} "
                    f"({days} day{'s' if days != 1 else ''})"
                ),
                action_url=_recovery_url(hw.patient_id, "staff-homework"),
                action_label="Follow up on the homework",
            )
        )
    return alerts


def _meeting_alert(p: Patient, week: WeekCompliance, *, this_week: bool, today: date) -> Alert:
    short = week.required - week.logged if this_week else week.still_needed
    if this_week:
        message = (
            f"Meetings this week: {week.verified} verified of {week.required} required"
            + (f" ({week.pending} waiting for verification)" if week.pending else "")
            + f"; {short} more needed by Sunday"
        )
    else:
        message = (
            f"Meeting shortfall in the week of {format_day(week.week_start, year=False)}: "
            f"{week.verified} verified of {week.required} required"
        )
    return Alert(
        key=f"meetings:{p.pk}:{week.week_start.isoformat()}",
        kind="meeting_shortfall" if this_week else "meeting_short_last_week",
        severity="warning",
        patient_id=p.pk,
        patient_name=p.display_name,
        message=message,
        action_url=_recovery_url(p.pk),
        action_label="Review the meeting log",
    )


@rule
def meeting_shortfall(patients: QuerySet[Patient], today: date) -> list[Alert]:
    """Verified meetings short of the phase's requirement. This week only once it can no
    longer be met (at most one meeting a day is assumed) or from Friday; last week if it
    ended short. Meetings waiting for verification count towards this week (the review
    queue covers them). Four queries."""
    monday = week_start(today)
    last_monday = monday - timedelta(days=7)
    people = list(
        Patient.objects.filter(pk__in=_ids(patients), enrollments__status=EnrollmentStatus.ACTIVE)
        .select_related("site")
        .prefetch_related(
            Prefetch(
                "enrollments",
                queryset=Enrollment.objects.filter(status=EnrollmentStatus.ACTIVE),
                to_attr="active_enrollments",
            )
        )
        .distinct()
    )
    if not people:
        return []
    by_site: dict[int, list[MeetingRequirement]] = {}
    for req in MeetingRequirement.objects.filter(site_id__in={p.site_id for p in people}):
        by_site.setdefault(req.site_id, []).append(req)
    if not by_site:
        return []
    start = min(week_bounds(last_monday, p.site.tz)[0] for p in people)
    end = max(week_bounds(monday, p.site.tz)[1] for p in people)
    meetings: dict[int, list[Meeting]] = {}
    for m in Meeting.objects.filter(
        patient_id__in=[p.pk for p in people], held_at__gte=start, held_at__lt=end
    ).only("patient_id", "held_at", "status", "fellowship"):
        meetings.setdefault(m.patient_id, []).append(m)
    days_left = 7 - today.weekday()  # today included
    alerts = []
    for p in people:
        enrollment = p.active_enrollments[0]
        requirement = requirement_for(by_site.get(p.site_id, []), enrollment.phase_id)
        if requirement is None:
            continue
        common: dict[str, Any] = {
            "meetings": meetings.get(p.pk, []),
            "tz": p.site.tz,
            "requirement": requirement,
            "admitted": enrollment.admission_date,
            "discharged": None,
            "today": today,
        }
        week = week_compliance(monday=monday, **common)
        needed = week.required - week.logged
        if needed > 0 and (today.weekday() >= SHORTFALL_FROM_WEEKDAY or needed > days_left):
            alerts.append(_meeting_alert(p, week, this_week=True, today=today))
        last = week_compliance(monday=last_monday, **common)
        if last.status == ComplianceStatus.SHORT:
            alerts.append(_meeting_alert(p, last, this_week=False, today=today))
    return alerts


@rule
def waiting_for_review(patients: QuerySet[Patient], today: date) -> list[Alert]:
    """Homework rounds and meetings the patient handed in that wait for the counselor.

    One alert per patient with the counts; the key names the newest item, so new work
    brings the alert back after a dismissal. Three queries."""
    ids = _ids(patients)
    work: dict[int, dict[str, dict[str, Any]]] = {}
    for row in (
        HomeworkSubmission.objects.filter(reviewed_at__isnull=True, assignment__patient_id__in=ids)
        .values("assignment__patient_id")
        .annotate(n=Count("pk"), newest=Max("pk"), oldest=Min("submitted_at"))
    ):
        work.setdefault(row["assignment__patient_id"], {})["homework"] = row
    for row in (
        Meeting.objects.filter(status=MeetingStatus.PENDING, patient_id__in=ids)
        .values("patient_id")
        .annotate(n=Count("pk"), newest=Max("pk"), oldest=Min("logged_at"))
    ):
        work.setdefault(row["patient_id"], {})["meetings"] = row
    if not work:
        return []
    names = {
        p.pk: p.display_name
        for p in Patient.objects.filter(pk__in=work).only(
            "pk", "preferred_name", "legal_first_name", "legal_last_name"
        )
    }
    alerts = []
    for pid, items in work.items():
        hw, mt = items.get("homework"), items.get("meetings")
        parts = []
        if hw:
            parts.append(f"{hw['n']} homework submission{'s' if hw['n'] != 1 else ''}")
        if mt:
            parts.append(f"{mt['n']} meeting{'s' if mt['n'] != 1 else ''}")
        alerts.append(
            Alert(
                key=f"review:{pid}:h{hw['newest'] if hw else 0}:m{mt['newest'] if mt else 0}",
                kind="waiting_for_review",
                severity="info",
                patient_id=pid,
                patient_name=names[pid],
                message=f"{' and '.join(parts)} waiting for review",
                action_url=reverse("recovery:queue"),
                action_label="Open the review queue",
            )
        )
    return alerts
