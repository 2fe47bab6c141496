"""Who may see which patient: the only place the rule lives.

Every view that shows patient data fetches the patient through
``patient_get_for_user`` (staff) or takes it from the logged-in user (portal).
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from core import audit
from core.models import AuditEvent, Role, User

from .models import OPEN_STATUSES, Patient


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
    site_ids = list(staff.sites.values_list("pk", flat=True))
    qs = qs.filter(site_id__in=site_ids)
    if staff.role == Role.COUNSELOR:
        # Caseload, plus patients on the rosters of the counselor's tracks, unless the
        # site widened access to every counselor.
        return qs.filter(
            Q(site__counselors_see_whole_site=True)
            | Q(primary_counselor=user)
            | Q(
                enrollments__status__in=OPEN_STATUSES,
                enrollments__track__default_facilitator=user,
            )
        ).distinct()
    return qs


def patient_get_for_user(user: User, pk: int, *, request=None, action: str = "") -> Patient:
    """Fetch a patient the user may see, or 404 (with an audit row for the denial).

    The 404 is the same whether the patient exists or not, so ids reveal nothing.
    """
    patient = (
        patients_visible_to(user).select_related("site", "primary_counselor").filter(pk=pk).first()
    )
    if patient is None:
        audit.record(
            action=action or "patient.view",
            actor=user if user.is_authenticated else None,
            request=request,
            patient_id=pk,
            outcome=AuditEvent.Outcome.DENIED,
        )
        raise Http404("No such patient.")
    return patient
