"""Reads for the privacy screens: the audit trail, disclosures and break-glass grants."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.access import get_or_deny
from core.lockout import FAILED as LOGIN_FAILED
from core.lockout import account_locks
from core.models import AuditEvent, User
from patients.access import patient_get_for_user, patients_visible_to
from patients.models import Consent, Enrollment, Patient

from .models import BreakGlassGrant, Disclosure


def audit_events(filters: dict[str, Any] | None) -> QuerySet[AuditEvent]:
    """The trail newest first, narrowed by the director's filter form's cleaned data."""
    events = AuditEvent.objects.select_related("actor").order_by("-id")
    if not filters:
        return events
    if filters["action"]:
        events = events.filter(action__icontains=filters["action"])
    if filters["actor"]:
        events = events.filter(actor_label__icontains=filters["actor"])
    if filters["patient"]:
        events = events.filter(patient_id=filters["patient"])
    if filters["outcome"]:
        events = events.filter(outcome=filters["outcome"])
    if filters["since"]:
        events = events.filter(at__date__gte=filters["since"])
    if filters["until"]:
        events = events.filter(at__date__lte=filters["until"])
    return events


def patient_audit_events(patient: Patient) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(patient_id=patient.pk).select_related("actor").order_by("-id")


def patient_by_mrn(user: User, mrn: str) -> Patient | None:
    """Any patient of the user's organisation with this MRN, visible or not: break-glass
    is how a user reaches a patient outside their care team."""
    staff = user.staff
    if staff is None:
        return None
    return Patient.objects.filter(organization_id=staff.organization_id, mrn=mrn).first()


def patient_is_visible(user: User, patient: Patient) -> bool:
    return patients_visible_to(user).filter(pk=patient.pk).exists()


def grant_for_review(user: User, pk: int) -> BreakGlassGrant:
    """A break-glass grant about a patient of the director's organisation, else 404."""
    staff = user.staff
    organization_id = staff.organization_id if staff is not None else None
    return get_object_or_404(BreakGlassGrant, pk=pk, patient__organization_id=organization_id)


def current_consents(patient: Patient, today: date) -> tuple[list[Consent], QuerySet[Consent]]:
    """The patient's consents in force on ``today``: as a list, and as the queryset a
    form's choice field needs."""
    consents = [c for c in patient.consents.all() if c.is_current(today)]
    return consents, patient.consents.filter(pk__in=[c.pk for c in consents])


def disclosure_get_for_user(
    user: User, pk: int, *, request: Any = None
) -> tuple[Disclosure, Patient]:
    """A disclosure and its patient, if the user may see the patient (404 otherwise; the
    patient getter audits the denial)."""
    disclosure = Disclosure.objects.select_related("consent", "disclosed_by").filter(pk=pk).first()
    if disclosure is None:
        raise Http404("No such disclosure.")
    patient = patient_get_for_user(
        user, disclosure.patient_id, request=request, action="disclosure.view"
    )
    return disclosure, patient


def disclosure_enrollments(patient: Patient) -> QuerySet[Enrollment]:
    """The patient's episodes as printed on a disclosure, with their events."""
    return patient.enrollments.select_related("track", "phase").prefetch_related("events")


def break_glass_patient_ids(user: User) -> QuerySet[Any]:
    """Patients the user holds a live break-glass grant for (a time-limited, audited grant
    outside the care team), as a ``values("patient_id")`` subquery for the access rule
    (registered with it in ``PrivacyConfig.ready()``)."""
    return BreakGlassGrant.objects.filter(user=user, expires_at__gt=timezone.now()).values(
        "patient_id"
    )


def _staff_users_of(director: User) -> QuerySet[User]:
    staff = director.staff
    if staff is None:
        return User.objects.none()
    return User.objects.filter(staff_profile__organization_id=staff.organization_id)


def staff_accounts(director: User) -> list[dict[str, Any]]:
    """The staff accounts of the director's organisation, each with its lockout, second
    step (a confirmed TOTP device) and last login, for the staff-accounts page."""
    users = list(
        _staff_users_of(director)
        .select_related("staff_profile")
        .annotate(
            mfa=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
        )
        .order_by("last_name", "first_name", "username")
    )
    locks = account_locks(users)
    return [{"user": u, "mfa": u.mfa, "lock": locks.get(u.pk)} for u in users]


def _portal_users_of(director: User) -> QuerySet[User]:
    staff = director.staff
    if staff is None:
        return User.objects.none()
    return User.objects.filter(patient__organization_id=staff.organization_id)


def locked_portal_accounts(director: User) -> list[dict[str, Any]]:
    """Patients of the director's organisation locked out now (they are told to call
    the clinic). Only accounts with recent failures are looked at, so the page does not
    grow with the caseload."""
    since = timezone.now() - timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
    failed = AuditEvent.objects.filter(action=LOGIN_FAILED, at__gte=since).values("actor_label")
    users = list(
        _portal_users_of(director)
        .filter(username__in=failed)
        .select_related("patient")
        .order_by("last_name", "first_name", "username")
    )
    locks = account_locks(users)
    return [{"user": u, "lock": locks[u.pk]} for u in users if u.pk in locks]


def account_for_director(director: User, pk: int, *, action: str, request: HttpRequest) -> User:
    """A staff or patient account of the director's organisation (an unlock), else 404
    and a denied row."""
    return get_or_deny(
        director,
        _staff_users_of(director) | _portal_users_of(director),
        action=action,
        message="No such account.",
        detail={"user": pk},
        request=request,
        pk=pk,
    )


def staff_account_for_director(
    director: User, pk: int, *, action: str, request: HttpRequest
) -> User:
    """A staff account of the director's organisation, else 404 and a denied row
    (``action`` names what was attempted: an unlock, an MFA reset)."""
    return get_or_deny(
        director,
        _staff_users_of(director),
        action=action,
        message="No such staff account.",
        detail={"user": pk},
        request=request,
        pk=pk,
    )
