"""Rosters: who is expected at a session or on a track on a date, and whom the
make-up picker offers."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db.models import Q, QuerySet

from core.models import User
from patients.access import patients_visible_to
from patients.models import OPEN_STATUSES, Patient, Track, TrackMembership

from ..models import Attendance, Session
from ._common import _covering


def rosters_for_sessions(
    sessions: list[Session], attendance: Iterable[Attendance] | None = None
) -> dict[int, list[Patient]]:
    """Roster of each session (two queries for any number of sessions; one when the
    caller passes the sessions' attendance rows, fetched with their patients)."""
    rosters: dict[int, dict[int, Patient]] = {s.pk: {} for s in sessions}
    group = [s for s in sessions if s.track_id is not None]
    if group:
        memberships = list(_memberships(group).select_related("patient"))
        for s in group:
            for m in _covering(memberships, s.track_id, s.local_date):
                rosters[s.pk][m.patient_id] = m.patient
    for s in sessions:
        if s.patient_id is not None and s.patient is not None:
            rosters[s.pk][s.patient_id] = s.patient
    taken = (
        attendance
        if attendance is not None
        else Attendance.objects.filter(session__in=[s.pk for s in sessions]).select_related(
            "patient"
        )
    )
    for a in taken:
        rosters[a.session_id].setdefault(a.patient_id, a.patient)
    return {
        pk: sorted(people.values(), key=lambda p: (p.legal_last_name, p.legal_first_name, p.pk))
        for pk, people in rosters.items()
    }


def _memberships(group: list[Session]) -> QuerySet[TrackMembership]:
    """The roster rows of the group sessions' tracks that overlap their dates."""
    first = min(s.local_date for s in group)
    last = max(s.local_date for s in group)
    return TrackMembership.objects.filter(
        track_id__in={s.track_id for s in group}, start_date__lte=last
    ).filter(Q(end_date__isnull=True) | Q(end_date__gte=first))


def roster_counts(sessions: list[Session]) -> tuple[dict[int, int], dict[int, int]]:
    """How many are on each session's roster (``rosters_for_sessions``'s rule: the
    track's members on its date, an individual session's patient, anyone already marked)
    and how many are marked: two queries, and no patient read, for pages that show only
    the numbers (the staff home built a thousand rows at 5,000 patients to count them)."""
    members: dict[int, set[int]] = {s.pk: set() for s in sessions}
    group = [s for s in sessions if s.track_id is not None]
    if group:
        fields = ("patient_id", "track_id", "start_date", "end_date")
        memberships = list(_memberships(group).only(*fields))
        for s in group:
            covering = _covering(memberships, s.track_id, s.local_date)
            members[s.pk].update(m.patient_id for m in covering)
    for s in sessions:
        if s.patient_id is not None:
            members[s.pk].add(s.patient_id)
    marked: dict[int, int] = {s.pk: 0 for s in sessions}
    rows = Attendance.objects.filter(session__in=[s.pk for s in sessions])
    for session_id, patient_id in rows.values_list("session_id", "patient_id"):
        members[session_id].add(patient_id)
        marked[session_id] += 1
    return {pk: len(ids) for pk, ids in members.items()}, marked


def session_roster_patients(session: Session) -> list[Patient]:
    """Everyone expected at ``session``: the track's roster on its local date (or the one
    patient of an individual session), plus make-up attendees already recorded."""
    return rosters_for_sessions([session])[session.pk]


def session_roster_size(session: Session) -> int:
    return len(session_roster_patients(session))


def make_up_candidates(user: User, session: Session, roster_ids: list[int]) -> QuerySet[Patient]:
    """Who the make-up picker offers: visible patients of the session's site with an open
    enrollment, not already on its roster."""
    return (
        patients_visible_to(user)
        .filter(
            site_id=session.site_id,
            is_archived=False,
            enrollments__status__in=OPEN_STATUSES,
        )
        .exclude(pk__in=roster_ids)
        .order_by("legal_last_name", "legal_first_name")
        .distinct()
    )


def make_up_allowed(user: User, session: Session) -> QuerySet[Patient]:
    """Any visible patient of the site: the service refuses the rest, on the form."""
    return patients_visible_to(user).filter(site_id=session.site_id)


def track_roster_count(track: Track, on: date) -> int:
    return (
        TrackMembership.objects.filter(track=track, start_date__lte=on)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=on))
        .count()
    )
