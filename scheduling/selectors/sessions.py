"""Sessions, tracks and attendance rows as the staff and portal pages list them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from core.clock import site_today
from core.models import Site, User
from patients.models import Patient, Track, TrackMembership

from ..models import Attendance, Session, SessionSeries, SessionStatus, SiteSchedule
from ._common import _covering
from .access import sites_for


def sessions_between(
    sites: Iterable[Site], first: date, last: date, *, track: Track | None = None
) -> QuerySet[Session]:
    qs = (
        Session.objects.filter(site__in=sites, local_date__gte=first, local_date__lte=last)
        .exclude(status=SessionStatus.REMOVED)
        .select_related("site", "track", "facilitator", "patient")
        .order_by("starts_at", "pk")
    )
    if track is not None:
        qs = qs.filter(track=track)
    return qs


def patient_sessions(patient: Patient, first: date, last: date) -> list[Session]:
    """The patient's group sessions (by roster) and individual sessions between two local
    dates, cancellations included (they are shown, not counted)."""
    memberships = list(
        TrackMembership.objects.filter(patient=patient, start_date__lte=last).filter(
            Q(end_date__isnull=True) | Q(end_date__gte=first)
        )
    )
    track_ids = {m.track_id for m in memberships}
    candidates = (
        Session.objects.filter(local_date__gte=first, local_date__lte=last)
        .filter(Q(track_id__in=track_ids) | Q(patient=patient))
        .exclude(status=SessionStatus.REMOVED)
        .select_related("site", "track", "facilitator")
        .order_by("starts_at", "pk")
    )
    return [
        s
        for s in candidates
        if s.patient_id == patient.pk or _covering(memberships, s.track_id, s.local_date)
    ]


def active_tracks(site: Site) -> list[Track]:
    return list(site.tracks.filter(is_active=True).order_by("kind", "name"))


def attendance_marked_counts(sessions: Iterable[Session]) -> dict[int, int]:
    """Attendance rows recorded per session (one query for any number of sessions)."""
    return dict(
        Attendance.objects.filter(session__in=sessions)
        .values("session")
        .annotate(n=Count("pk"))
        .values_list("session", "n")
    )


def facilitator_sessions_today(user: User, now: datetime) -> list[Session]:
    """The user's sessions on each site's own today (zones may differ on the date)."""
    sites = list(sites_for(user))
    days = {site_today(s, now) for s in sites} or {timezone.localdate()}
    return [
        s
        for s in sessions_between(sites, min(days), max(days)).filter(facilitator=user)
        if s.local_date == site_today(s.site, now)
    ]


def attendance_taken(session: Session) -> list[Attendance]:
    return list(
        Attendance.objects.filter(session=session)
        .annotate(n_changes=Count("changes"))
        .select_related("patient")
    )


def attendance_row(session: Session, patient: Patient) -> Attendance | None:
    return (
        Attendance.objects.filter(session=session, patient=patient)
        .annotate(n_changes=Count("changes"))
        .first()
    )


def attendance_credited_minutes(session: Session) -> list[int]:
    return list(
        Attendance.objects.filter(session=session).values_list("minutes_credited", flat=True)
    )


def track_current_series(track: Track, today: date) -> list[SessionSeries]:
    return list(
        SessionSeries.objects.filter(track=track, is_active=True)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
        .select_related("facilitator")
    )


def schedule_rules(site: Site) -> SiteSchedule:
    return SiteSchedule.for_site(site)
