"""Who may see which patient: the only place the rule lives.

Every view that shows patient data fetches the patient through
``patient_get_for_user`` (staff) or takes it from the logged-in user (portal).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest

from core.access import get_or_deny, staff_sites
from core.models import Role, User

from .models import OPEN_STATUSES, Enrollment, Patient

# A source of extra access: given a staff user, a ``values("patient_id")`` queryset of
# the patients it opens to them beyond their sites and care team (used as a subquery).
GrantSource = Callable[[User], QuerySet[Any]]

_grant_sources: list[GrantSource] = []


def grant_source_register(source: GrantSource) -> GrantSource:
    """Add a source of extra access to the rule below.

    The rule lives here but must not import the apps above patients that widen it
    (privacy's break-glass grants): they register their source from their
    ``AppConfig.ready()``.
    """
    if source not in _grant_sources:
        _grant_sources.append(source)
    return source


def patients_visible_to(user: User) -> QuerySet[Patient]:
    """Every patient this user may see. The only place the access rule lives."""
    qs = Patient.objects.all()
    if not (user.is_authenticated and user.is_active):
        return qs.none()
    staff = user.staff
    if staff is None:
        if user.is_portal_patient:
            return qs.filter(user=user)
        return qs.none()
    qs = qs.filter(organization_id=staff.organization_id)
    if staff.sees_all_sites:
        return qs
    # The user's site ids as a subquery: a join through the staff/site table repeated each
    # patient once per colleague at the site (measured: 515,000 rows read to keep 2,500).
    site_ids = staff.sites.values("pk")
    # Grants outside the care team (e.g. break-glass), registered by the apps that give them.
    granted = [source(user) for source in _grant_sources]
    if staff.role != Role.COUNSELOR:
        rule = Q(site_id__in=site_ids)
        for ids in granted:
            rule |= Q(pk__in=ids)
        return qs.filter(rule)
    # Counselors: their caseload, the patients on the rosters of the tracks they run, and
    # every patient of a site that widened access to all its counselors. The caseload and
    # rosters are one UNION of index lookups, so the database starts from the few dozen
    # patients a counselor sees; an OR of these conditions made it test every patient of
    # the organisation (the caseload page grew with the clinic). The sites are read first
    # (once a request, ``staff_sites``): the union then plans in a fraction of the time.
    sites = [(s.pk, s.counselors_see_whole_site) for s in staff_sites(staff)]
    own_sites = [pk for pk, _ in sites]
    whole_sites = [pk for pk, whole in sites if whole]
    team = (
        Patient.objects.filter(primary_counselor=user, site_id__in=own_sites)
        .order_by()
        .values("pk")
        .union(
            Enrollment.objects.filter(
                status__in=OPEN_STATUSES,
                track__default_facilitator=user,
                patient__site_id__in=own_sites,
            )
            .order_by()
            .values("patient_id"),
            *(ids.order_by() for ids in granted),
        )
    )
    rule = Q(pk__in=team)
    if whole_sites:
        rule |= Q(site_id__in=whole_sites)
    return qs.filter(rule)


def patient_get_for_user(
    user: User,
    pk: int,
    *,
    request: HttpRequest | None = None,
    action: str = "",
) -> Patient:
    """Fetch a patient the user may see, or 404 (with an audit row for the denial)."""
    return get_or_deny(
        user,
        patients_visible_to(user).select_related("site", "primary_counselor"),
        action=action or "patient.view",
        message="No such patient.",
        patient_id=pk,
        request=request,
        pk=pk,
    )
