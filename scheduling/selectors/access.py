"""Which sites, sessions, tracks and series a user may see (404 plus an audited
denial for the rest, through ``core.access.get_or_deny``)."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from core.access import get_or_deny, site_ids_for
from core.models import Site, User
from patients.access import patients_visible_to
from patients.models import Track

from ..models import Session, SessionSeries, SessionStatus


def sites_for(user: User) -> QuerySet[Site]:
    """Active sites a staff user works at (every site of the organisation for a director)."""
    staff = user.staff
    if staff is None:
        return Site.objects.none()
    qs = Site.objects.filter(organization_id=staff.organization_id, is_active=True)
    ids = site_ids_for(user)
    return qs if ids is None else qs.filter(pk__in=ids)


def sessions_visible_to(user: User) -> QuerySet[Session]:
    """Sessions at the user's sites; individual sessions only for patients they may see."""
    staff = user.staff
    if staff is None or not user.is_active:
        return Session.objects.none()
    qs = Session.objects.filter(site__in=sites_for(user)).exclude(status=SessionStatus.REMOVED)
    return qs.filter(Q(patient__isnull=True) | Q(patient__in=patients_visible_to(user)))


def session_get_for_user(user: User, pk: int) -> Session:
    return get_or_deny(
        user,
        sessions_visible_to(user).select_related(
            "site", "track", "facilitator", "patient", "series"
        ),
        action="scheduling.session_view",
        message="No such session.",
        detail={"session_pk": pk},
        pk=pk,
    )


def track_get_for_user(user: User, pk: int) -> Track:
    return get_or_deny(
        user,
        Track.objects.filter(site__in=sites_for(user)).select_related("site"),
        action="scheduling.track_view",
        message="No such track.",
        detail={"track_pk": pk},
        pk=pk,
    )


def site_choices(user: User) -> list[Site]:
    return list(sites_for(user).order_by("name"))


def series_get_for_user(user: User, pk: int) -> tuple[SessionSeries, Track]:
    """A weekly series and its track, if the user may see the track (else 404; the
    track's denial is audited like any other track)."""
    series = SessionSeries.objects.select_related("track__site").filter(pk=pk).first()
    if series is None:
        raise Http404
    return series, track_get_for_user(user, series.track_id)
