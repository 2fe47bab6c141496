"""Reads for meetings and homework. Every query runs a fixed number of times per page,
whatever the number of rows (related rows come with select/prefetch_related)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Case, Count, Prefetch, QuerySet, Value, When
from django.http import HttpRequest
from django.utils import timezone

from core import clock
from core.access import get_or_deny, site_ids_for
from core.clock import site_today, week_bounds, week_start
from core.models import Site, User
from patients.access import patients_visible_to
from patients.models import OPEN_STATUSES, Enrollment, Patient, ProgramPhase, Track
from patients.selectors import enrollments_by_patient
from scheduling.models import Session

from .compliance import WeekCompliance, requirement_for, week_compliance
from .models import (
    Attachment,
    HomeworkAssignment,
    HomeworkStatus,
    HomeworkSubmission,
    HomeworkTemplate,
    Meeting,
    MeetingRequirement,
    MeetingStatus,
    Sponsor,
    StepProgress,
)

# --- compliance -----------------------------------------------------------------


def _episode(patient: Patient) -> Enrollment | None:
    """The open enrollment, else the latest one (a discharged patient's last weeks)."""
    rows = enrollments_by_patient([patient])[patient.pk]
    for row in rows:
        if row.status in OPEN_STATUSES:
            return row
    return rows[0] if rows else None


def compliance_weeks(
    patient: Patient, *, weeks: int = 1, now: datetime | None = None
) -> list[WeekCompliance]:
    """The last ``weeks`` weeks (newest first), this week included. Three queries."""
    return compliance_report(patient, weeks=weeks, now=now)[0]


def compliance_report(
    patient: Patient, *, weeks: int = 1, now: datetime | None = None
) -> tuple[list[WeekCompliance], MeetingRequirement | None]:
    """The weeks (newest first) and the requirement that applies. Three queries."""
    today = site_today(patient.site, now)
    tz = patient.site.tz
    episode = _episode(patient)
    requirements = list(MeetingRequirement.objects.filter(site_id=patient.site_id))
    requirement = requirement_for(requirements, episode.phase_id if episode else None)
    this_monday = week_start(today)
    first_monday = this_monday - timedelta(weeks=weeks - 1)
    start, _ = week_bounds(first_monday, tz)
    _, end = week_bounds(this_monday, tz)
    meetings = list(
        Meeting.objects.filter(patient=patient, held_at__gte=start, held_at__lt=end).only(
            "held_at", "status", "fellowship"
        )
    )
    return [
        week_compliance(
            monday=this_monday - timedelta(weeks=i),
            meetings=meetings,
            tz=tz,
            requirement=requirement,
            admitted=episode.admission_date if episode else None,
            discharged=episode.discharge_date if episode else None,
            today=today,
        )
        for i in range(weeks)
    ], requirement


# --- meetings, sponsor, steps -----------------------------------------------------


def patient_meetings(patient: Patient, *, limit: int = 30) -> list[Meeting]:
    return list(
        Meeting.objects.filter(patient=patient)
        .select_related("sheet", "reviewed_by")
        .order_by("-held_at", "-pk")[:limit]
    )


def current_sponsor(patient: Patient) -> Sponsor | None:
    # The patient's site writes the sponsor's number (its country), in the same query.
    return (
        Sponsor.objects.filter(patient=patient, ended_on=None)
        .select_related("patient__site")
        .first()
    )


def current_step(patient: Patient) -> StepProgress | None:
    return StepProgress.objects.filter(patient=patient).first()


# --- homework ----------------------------------------------------------------------


def _rounds() -> Prefetch[Any]:
    return Prefetch(
        "submissions",
        queryset=HomeworkSubmission.objects.select_related("reviewed_by")
        .prefetch_related("files")
        .order_by("round"),
    )


def patient_homework(patient: Patient, *, open_only: bool = False) -> list[HomeworkAssignment]:
    """Assignments with every round and its files: three queries."""
    qs = HomeworkAssignment.objects.filter(patient=patient)
    if open_only:
        qs = qs.exclude(status=HomeworkStatus.ACCEPTED)
    # Work to do first (returned, then assigned), then waiting for review, then done.
    rank = Case(
        When(status=HomeworkStatus.RETURNED, then=Value(0)),
        When(status=HomeworkStatus.ASSIGNED, then=Value(1)),
        When(status=HomeworkStatus.SUBMITTED, then=Value(2)),
        default=Value(3),
    )
    return list(
        qs.select_related("template__worksheet")
        .prefetch_related(_rounds())
        .order_by(rank, "due_date", "pk")
    )


def homework_for_patient_portal(patient: Patient, pk: int) -> HomeworkAssignment:
    """The portal's getter: only the logged-in patient's own homework, else 404."""
    return get_or_deny(
        patient.user,
        HomeworkAssignment.objects.filter(patient=patient),
        action="recovery.homework_view",
        message="No such homework.",
        detail={"assignment_pk": pk},
        patient_id=patient.pk,
        pk=pk,
    )


def active_templates(sites: QuerySet[Site] | list[int]) -> QuerySet[HomeworkTemplate]:
    """Library templates that may be assigned at these sites (a form's choices)."""
    return HomeworkTemplate.objects.filter(site__in=sites, is_active=True)


def library_sites(user: User, site_ids: Iterable[int] | None) -> QuerySet[Site]:
    """Active sites whose library the user works with (``site_ids`` from ``site_ids_for``;
    None for every site of the organisation)."""
    staff = user.staff
    if staff is None:
        return Site.objects.none()
    site_qs = staff.organization.sites.filter(is_active=True)
    if site_ids is not None:
        site_qs = site_qs.filter(pk__in=site_ids)
    return site_qs


def active_tracks(sites: QuerySet[Site]) -> QuerySet[Track]:
    return Track.objects.filter(site__in=sites, is_active=True)


def group_sessions_near(sites: QuerySet[Site], today: date) -> QuerySet[Session]:
    """Group sessions from two weeks back to three weeks ahead, for roster assignment."""
    return (
        Session.objects.filter(
            site__in=sites,
            track__isnull=False,
            local_date__gte=today - timedelta(days=14),
            local_date__lte=today + timedelta(days=21),
        )
        .exclude(status__in=["removed", "cancelled"])
        .select_related("site", "track")
        .order_by("starts_at")
    )


def requirement_settings(
    user: User,
) -> tuple[list[Site], list[ProgramPhase], dict[tuple[int, int | None], MeetingRequirement]]:
    """The organisation's active sites, their active phases, and the meeting requirement
    set for each (site, phase) pair (phase None: the site's default)."""
    staff = user.staff
    if staff is None:
        return [], [], {}
    sites = list(staff.organization.sites.filter(is_active=True))
    phases = list(ProgramPhase.objects.filter(site__in=sites, is_active=True).order_by("number"))
    current = {
        (r.site_id, r.phase_id): r
        for r in MeetingRequirement.objects.filter(site__in=sites).select_related("phase")
    }
    return sites, phases, current


def templates_for_sites(site_ids: Iterable[int] | None) -> list[HomeworkTemplate]:
    qs = HomeworkTemplate.objects.filter(is_active=True).select_related("site", "worksheet")
    if site_ids is not None:
        qs = qs.filter(site_id__in=site_ids)
    return list(qs.order_by("site__name", "title"))


# --- staff getters (404 for anything outside the user's patients) ----------------


def _visible_ids(user: User) -> QuerySet[Patient, Any]:
    return patients_visible_to(user).values("pk")


def meeting_get_for_user(user: User, pk: int, *, request: HttpRequest | None = None) -> Meeting:
    return get_or_deny(
        user,
        Meeting.objects.filter(patient_id__in=_visible_ids(user)).select_related(
            "patient", "patient__site"
        ),
        action="recovery.meeting_view",
        message="No such meeting.",
        detail={"meeting": pk},
        request=request,
        pk=pk,
    )


def submission_get_for_user(
    user: User, pk: int, *, request: HttpRequest | None = None
) -> HomeworkSubmission:
    return get_or_deny(
        user,
        HomeworkSubmission.objects.filter(
            assignment__patient_id__in=_visible_ids(user)
        ).select_related("assignment", "assignment__patient"),
        action="recovery.submission_view",
        message="No such submission.",
        detail={"submission": pk},
        request=request,
        pk=pk,
    )


def attachment_get_for_staff(user: User, pk: int) -> Attachment | None:
    attachment = Attachment.objects.filter(pk=pk).first()
    if attachment is None:
        return None
    if attachment.patient_id is not None:
        if patients_visible_to(user).filter(pk=attachment.patient_id).exists():
            return attachment
        return None
    # A worksheet in a site's library: staff who work at that site.
    sites = site_ids_for(user)
    if sites is None:
        staff = user.staff
        visible = (
            staff is not None and staff.organization.sites.filter(pk=attachment.site_id).exists()
        )
        return attachment if visible else None
    return attachment if attachment.site_id in sites else None


def attachment_get_for_patient(patient: Patient, pk: int) -> Attachment | None:
    attachment = Attachment.objects.filter(pk=pk).first()
    if attachment is None:
        return None
    if attachment.patient_id is not None:
        return attachment if attachment.patient_id == patient.pk else None
    # A worksheet: only if this patient was given homework that uses it.
    given = HomeworkAssignment.objects.filter(
        patient=patient, template__worksheet_id=attachment.pk
    ).exists()
    return attachment if given else None


# --- the counselor queue -----------------------------------------------------------


@dataclass
class Queue:
    meetings: list[Meeting]
    submissions: list[HomeworkSubmission]

    @property
    def total(self) -> int:
        return len(self.meetings) + len(self.submissions)


def review_queue(user: User, *, limit: int = 200) -> Queue:
    """Meetings awaiting verification and homework awaiting review across the user's
    visible patients, oldest first. Three queries whatever the size."""
    visible = _visible_ids(user)
    meetings = list(
        Meeting.objects.filter(status=MeetingStatus.PENDING, patient_id__in=visible)
        .select_related("patient", "patient__site", "sheet")
        .order_by("logged_at", "pk")[:limit]
    )
    submissions = list(
        HomeworkSubmission.objects.filter(
            reviewed_at__isnull=True, assignment__patient_id__in=visible
        )
        .select_related("assignment", "assignment__patient", "assignment__patient__site")
        .prefetch_related("files")
        .order_by("submitted_at", "pk")[:limit]
    )
    return Queue(meetings=meetings, submissions=submissions)


def review_queue_counts(user: User) -> dict[str, int]:
    visible = _visible_ids(user)
    # Both counts in one round trip (UNION ALL of two one-row aggregates): the home page
    # calls this on every load.
    meetings_n = (
        Meeting.objects.filter(status=MeetingStatus.PENDING, patient_id__in=visible)
        .order_by()
        .values(kind=Value("meetings"))
        .annotate(n=Count("pk"))
        .values_list("kind", "n")
    )
    submissions_n = (
        HomeworkSubmission.objects.filter(
            reviewed_at__isnull=True, assignment__patient_id__in=visible
        )
        .order_by()
        .values(kind=Value("submissions"))
        .annotate(n=Count("pk"))
        .values_list("kind", "n")
    )
    counts = dict(meetings_n.union(submissions_n, all=True))
    meetings = counts.get("meetings", 0)
    submissions = counts.get("submissions", 0)
    return {"meetings": meetings, "submissions": submissions, "total": meetings + submissions}


# --- caseload compliance -------------------------------------------------------------


@dataclass
class PatientWeek:
    patient: Patient
    week: WeekCompliance


def caseload_compliance(
    user: User, monday: date, *, now: datetime | None = None
) -> list[PatientWeek]:
    """One week's meeting compliance for every open patient the user may see, each in
    their own site's time zone. Four queries whatever the caseload size."""
    now = clock.now(now)
    patients = list(
        patients_visible_to(user)
        .filter(enrollments__status__in=OPEN_STATUSES)
        .select_related("site")
        .prefetch_related(
            Prefetch(
                "enrollments",
                queryset=Enrollment.objects.filter(status__in=OPEN_STATUSES),
                to_attr="open_enrollments",
            )
        )
        .distinct()
        .order_by("legal_last_name", "legal_first_name", "pk")
    )
    if not patients:
        return []
    site_ids = {p.site_id for p in patients}
    requirements = list(MeetingRequirement.objects.filter(site_id__in=site_ids))
    by_site: dict[int, list[MeetingRequirement]] = {}
    for req in requirements:
        by_site.setdefault(req.site_id, []).append(req)
    bounds = {p.site_id: week_bounds(monday, p.site.tz) for p in patients}
    start = min(b[0] for b in bounds.values())
    end = max(b[1] for b in bounds.values())
    meetings: dict[int, list[Meeting]] = {}
    for m in Meeting.objects.filter(
        patient__in=[p.pk for p in patients], held_at__gte=start, held_at__lt=end
    ).only("patient_id", "held_at", "status", "fellowship"):
        meetings.setdefault(m.patient_id, []).append(m)
    rows = []
    for p in patients:
        enrollment = p.open_enrollments[0] if p.open_enrollments else None
        today = timezone.localdate(now, p.site.tz)
        rows.append(
            PatientWeek(
                patient=p,
                week=week_compliance(
                    monday=monday,
                    meetings=meetings.get(p.pk, []),
                    tz=p.site.tz,
                    requirement=requirement_for(
                        by_site.get(p.site_id, []), enrollment.phase_id if enrollment else None
                    ),
                    admitted=enrollment.admission_date if enrollment else None,
                    discharged=None,
                    today=today,
                ),
            )
        )
    return rows
