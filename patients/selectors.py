"""Reads for patients. Access-checking getters live in ``access`` and are re-exported."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import (
    Count,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    prefetch_related_objects,
)
from django.http import Http404
from django.shortcuts import get_object_or_404

from core.clock import week_start
from core.formats import format_day
from core.models import Role, Site, User

from .access import patient_get_for_user, patients_visible_to
from .models import (
    OPEN_STATUSES,
    Consent,
    Enrollment,
    EnrollmentEvent,
    EnrollmentStatus,
    MedicationOrder,
    Patient,
    ProgramLevel,
    ProgramPhase,
    ScheduledChange,
    Track,
    TrackKind,
    weekly_minimum_minutes,
)

__all__ = [
    "patient_get_for_user",
    "patients_visible_to",
    "current_enrollment",
    "scheduled_change_of",
    "medication_order_of",
    "consent_of",
    "prescribed_medications",
    "sites_for",
    "counselors_at",
    "caseload",
    "attach_enrollments",
    "chart_for",
    "site_census",
    "upcoming_changes",
    "backdated_effect",
]


def current_enrollment(patient: Patient) -> Enrollment | None:
    return (
        patient.enrollments.filter(status__in=OPEN_STATUSES)
        .select_related("track", "phase")
        .first()
    )


# The patient came through ``patient_get_for_user``; these 404 for another patient's row.


def scheduled_change_of(patient: Patient, pk: int) -> ScheduledChange:
    return get_object_or_404(
        ScheduledChange.objects.select_related("patient__site"), pk=pk, patient=patient
    )


def medication_order_of(patient: Patient, pk: int) -> MedicationOrder:
    return get_object_or_404(
        MedicationOrder.objects.select_related("patient__site"), pk=pk, patient=patient
    )


def consent_of(patient: Patient, pk: int) -> Consent:
    consent = Consent.objects.select_related("patient__site").filter(pk=pk, patient=patient).first()
    if consent is None:
        raise Http404("No such consent.")
    return consent


def prescribed_medications(patient_id: int, on: date) -> set[str]:
    """Medication codes active for the patient on a date (drug tests' expected positives)."""
    return set(
        MedicationOrder.objects.filter(patient_id=patient_id, start_date__lte=on)
        .filter(Q(stop_date__isnull=True) | Q(stop_date__gte=on))
        .values_list("medication", flat=True)
    )


# --- staff screens ----------------------------------------------------------


def sites_for(user: User) -> QuerySet[Site]:
    """Sites a staff user works at (every active site of the organisation for the director)."""
    staff = user.staff
    if staff is None:
        return Site.objects.none()
    if staff.sees_all_sites:
        return Site.objects.filter(organization_id=staff.organization_id, is_active=True)
    return staff.sites.filter(is_active=True)


def counselors_at(site_ids: Iterable[int]) -> QuerySet[User]:
    """Who may carry a caseload at these sites: their counselors and the director."""
    return (
        User.objects.filter(is_active=True)
        .filter(
            Q(staff_profile__role=Role.COUNSELOR, staff_profile__sites__in=site_ids)
            | Q(staff_profile__role=Role.DIRECTOR, staff_profile__organization__sites__in=site_ids)
        )
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


class CaseloadStatus:
    OPEN = "open"
    ACTIVE = EnrollmentStatus.ACTIVE
    ON_HOLD = EnrollmentStatus.ON_HOLD
    DISCHARGED = EnrollmentStatus.DISCHARGED
    ALL = "all"

    choices = [
        (OPEN, "Active, on hold or admission upcoming"),
        (ACTIVE, "Active"),
        (ON_HOLD, "On hold"),
        (DISCHARGED, "Discharged"),
        (ALL, "All"),
    ]


def caseload(
    user: User,
    *,
    q: str = "",
    site: Site | None = None,
    track: Track | None = None,
    level: str = "",
    phase: ProgramPhase | None = None,
    counselor: User | None = None,
    status: str = CaseloadStatus.OPEN,
) -> QuerySet[Patient]:
    """Visible patients with their latest enrollment's values annotated (no per-row query).

    A patient has at most one open enrollment and a re-admission cannot predate the last
    discharge, so the latest enrollment is the current one when there is one.
    """
    latest = Enrollment.objects.filter(patient=OuterRef("pk")).order_by("-admission_date", "-pk")
    upcoming_admission = ScheduledChange.objects.filter(
        patient=OuterRef("pk"),
        kind=ScheduledChange.Kind.ADMISSION,
        status=ScheduledChange.Status.PENDING,
    )
    qs = (
        patients_visible_to(user)
        .filter(is_archived=False)
        .select_related("site", "primary_counselor")
        .annotate(
            enrollment_id=Subquery(latest.values("pk")[:1]),
            enrollment_status=Subquery(latest.values("status")[:1]),
            enrollment_level=Subquery(latest.values("level")[:1]),
            enrollment_track_id=Subquery(latest.values("track_id")[:1]),
            enrollment_phase_id=Subquery(latest.values("phase_id")[:1]),
            admission_on=Subquery(upcoming_admission.values("effective_date")[:1]),
        )
    )
    for term in q.split():
        qs = qs.filter(
            Q(legal_first_name__icontains=term)
            | Q(legal_last_name__icontains=term)
            | Q(preferred_name__icontains=term)
            | Q(mrn__iexact=term)
        )
    if site is not None:
        qs = qs.filter(site=site)
    if counselor is not None:
        qs = qs.filter(primary_counselor=counselor)
    if track is not None:
        qs = qs.filter(enrollment_track_id=track.pk)
    if phase is not None:
        qs = qs.filter(enrollment_phase_id=phase.pk)
    if level:
        qs = qs.filter(enrollment_level=level)
    if status == CaseloadStatus.OPEN:
        # A patient admitted for a later date is already the team's to prepare for.
        qs = qs.filter(Q(enrollment_status__in=OPEN_STATUSES) | Q(admission_on__isnull=False))
    elif status in EnrollmentStatus.values:
        qs = qs.filter(enrollment_status=status)
    return qs.order_by("legal_last_name", "legal_first_name", "pk")


def attach_enrollments(patients: list[Patient]) -> list[Patient]:
    """Set ``patient.latest_enrollment`` on a page of ``caseload`` rows in one query."""
    # ``enrollment_id`` is an annotation of ``caseload``, not a field of Patient.
    ids: list[int | None] = [getattr(p, "enrollment_id", None) for p in patients]
    by_id: dict[int | None, Enrollment] = {
        e.pk: e
        for e in Enrollment.objects.filter(pk__in=[i for i in ids if i]).select_related(
            "track", "phase"
        )
    }
    for p, enrollment_id in zip(patients, ids, strict=True):
        p.latest_enrollment = by_id.get(enrollment_id)  # type: ignore[attr-defined]
    return patients


@dataclass
class Chart:
    patient: Patient
    enrollment: Enrollment | None
    past_enrollments: list[Enrollment]
    medications: list[MedicationOrder]
    consents: list[Consent]
    upcoming: list[ScheduledChange]


def chart_for(patient: Patient) -> Chart:
    """Everything the chart's own sections show, in a fixed number of queries. The
    enrollments are kept on ``patient`` (``patient_enrollments``), so the chart's panels
    that need them (hours, meeting compliance) read them from there."""
    enrollments = patient_enrollments(patient)
    prefetch_related_objects(
        enrollments,
        Prefetch(
            "events",
            queryset=EnrollmentEvent.objects.select_related("actor").order_by(
                "effective_date", "recorded_at", "pk"
            ),
        ),
    )
    current = next((e for e in enrollments if e.is_open), None)
    return Chart(
        patient=patient,
        enrollment=current,
        past_enrollments=[e for e in enrollments if e is not current],
        medications=list(patient.medications.all()),
        consents=list(patient.consents.all()),
        upcoming=upcoming_changes(patient),
    )


def _enrollments_kept(patient: Patient) -> bool:
    return "enrollments" in getattr(patient, "_prefetched_objects_cache", {})


def patient_enrollments(patient: Patient) -> list[Enrollment]:
    """The patient's enrollments, newest admission first, with their track and phase:
    read once for a loaded patient, and kept in its prefetch cache, where
    ``patient.enrollments.all()`` and ``enrollments_by_patient`` find them (the chart read
    them in four places). Called by page code (the chart, the portal home) that only
    reads: a write to them must go through a freshly read patient."""
    if not _enrollments_kept(patient):
        prefetch_related_objects(
            [patient],
            Prefetch("enrollments", queryset=Enrollment.objects.select_related("track", "phase")),
        )
    return list(patient.enrollments.all())


def enrollments_by_patient(patients: Iterable[Patient]) -> dict[int, list[Enrollment]]:
    """Each patient's enrollments, newest admission first: those a page already kept on
    the patient (``patient_enrollments``) from there, the others in one query, not kept
    (selectors called after a write in the same request read them afresh)."""
    patients = list(patients)
    found: dict[int, list[Enrollment]] = {p.pk: [] for p in patients}
    unread = []
    for p in patients:
        if _enrollments_kept(p):
            found[p.pk] = list(p.enrollments.all())
        else:
            unread.append(p.pk)
    if unread:
        for e in Enrollment.objects.filter(patient_id__in=unread).order_by(
            "-admission_date", "-pk"
        ):
            found[e.patient_id].append(e)
    return found


def site_census(site_ids: Iterable[int]) -> list[dict[str, Any]]:
    """Open enrollments per site by status, level, day/evening track and phase: one query.

    Tracks are counted by kind: a large clinic runs hundreds of groups, and a home-page
    panel with a line per group (and a query that sorts by each) grew with the clinic.
    """
    rows = (
        Enrollment.objects.filter(site_id__in=site_ids, status__in=OPEN_STATUSES)
        .values("site_id", "site__name", "status", "level", "track__kind", "phase__name")
        .annotate(n=Count("pk"))
        .order_by("site__name")
    )
    sites: dict[int, dict[str, Any]] = {}
    for row in rows:
        entry = sites.setdefault(
            row["site_id"],
            {
                "name": row["site__name"],
                "active": 0,
                "on_hold": 0,
                "levels": Counter(),
                "tracks": Counter(),
                "phases": Counter(),
            },
        )
        n = row["n"]
        entry[row["status"]] += n
        if row["status"] == EnrollmentStatus.ACTIVE:
            entry["levels"][ProgramLevel(row["level"]).short + " " + row["level"]] += n
            kind = row["track__kind"]
            entry["tracks"][TrackKind(kind).label if kind else "No track"] += n
            entry["phases"][row["phase__name"] or "No phase"] += n
    out = []
    for entry in sites.values():
        for key in ("levels", "tracks", "phases"):
            entry[key] = sorted(entry[key].items())
        out.append(entry)
    return out


# --- effective dates ----------------------------------------------------------


def upcoming_changes(patient: Patient) -> list[ScheduledChange]:
    """Changes still to take effect, and those the task could not apply (staff must act)."""
    return list(
        ScheduledChange.objects.filter(
            patient=patient,
            status__in=(ScheduledChange.Status.PENDING, ScheduledChange.Status.FAILED),
        ).select_related("created_by")
    )


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def backdated_effect(enrollment: Enrollment, kind: str, on: date, today: date) -> str:
    """What a change dated before today does to the weeks already under way or past,
    said on the page so staff know which weeks' figures moved."""
    if on >= today:
        return ""
    mondays, monday = [], week_start(on)
    while monday <= week_start(today):
        mondays.append(monday)
        monday += timedelta(days=7)
    weeks = ("the week of " if len(mondays) == 1 else "the weeks of ") + _and(
        [format_day(m, year=False) for m in mondays]
    )
    head = f"Back-dated to {format_day(on)}: "
    Kind = ScheduledChange.Kind
    if kind == Kind.LEVEL:
        adolescent = enrollment.patient.is_adolescent_on(today)
        minimum = weekly_minimum_minutes(enrollment.level, adolescent)
        if minimum == 0:
            return head + f"{weeks} now have no weekly minimum ({enrollment.level_short})."
        return head + f"the weekly minimum for {weeks} is now {minimum // 60:g} h."
    if kind == Kind.TRACK:
        track = enrollment.track.name if enrollment.track is not None else "no track"
        return head + f"the rosters of {weeks} now list the patient on {track} from that day."
    if kind == Kind.PHASE:
        return head + (
            f"the phase counts from that day in {weeks}; drug-test draws already made stay "
            "as drawn."
        )
    if kind == Kind.HOLD:
        return head + f"the patient is off the rosters of {weeks} from that day."
    if kind == Kind.RESUME:
        return head + f"the patient is back on the rosters of {weeks} from that day."
    if kind == Kind.DISCHARGE:
        return head + f"the patient is off the rosters of {weeks} from the day after."
    return head + "recorded with that date."
