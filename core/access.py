"""Who may use which view. Every view names its rule with one of these decorators.

LoginRequiredMiddleware already sends anonymous users to the login page; these
decorators add the role. A role mismatch is a 403; an object the user may not see
is a 404 with a denied row in the audit trail: each app's access-checking getters
(in its ``selectors``) build the queryset of what the user may see and hand it to
``get_or_deny``, the one place that turns "not there" into that 404.
"""

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, NoReturn, TypeVar

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest

from . import audit
from .models import AuditEvent, Role

STAFF_ROLES = tuple(Role)

_M = TypeVar("_M", bound=Model)


def staff_required(*roles: str) -> Callable:
    """Allow active clinic staff; with ``roles``, only those roles."""
    allowed = frozenset(roles or STAFF_ROLES)

    def decorator(view):
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            user = request.user
            if user.is_authenticated and user.is_clinic_staff and user.role in allowed:
                return view(request, *args, **kwargs)
            if user.is_authenticated and not user.is_clinic_staff:
                # A patient probing staff URLs learns nothing, not even that they exist.
                match = request.resolver_match
                audit.record(
                    action=f"denied:{match.view_name if match else 'staff_page'}",
                    request=request,
                    outcome=AuditEvent.Outcome.DENIED,
                    detail={"path": request.path[:200]},
                )
                raise Http404
            raise PermissionDenied

        wrapper.access_rule = f"staff:{','.join(sorted(allowed))}"
        return wrapper

    return decorator


def patient_required(view):
    """Allow a patient with a portal account; the view reads ``request.patient``."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        user = request.user
        if not (user.is_authenticated and user.is_active and user.is_portal_patient):
            raise PermissionDenied
        # The portal takes the patient from the logged-in user, never from the URL.
        request.patient = user.patient_record
        return view(request, *args, **kwargs)

    wrapper.access_rule = "patient:self"
    return wrapper


def site_ids_for(user) -> Iterable[int] | None:
    """Site ids a staff user works at; None means every site of the organisation."""
    staff = user.staff
    if staff is None:
        return []
    if staff.sees_all_sites:
        return None
    return [s.pk for s in staff.sites.all()]


def deny(
    user: AbstractBaseUser | AnonymousUser | None,
    *,
    action: str,
    message: str,
    detail: dict[str, Any] | None = None,
    patient_id: int | None = None,
    request: HttpRequest | None = None,
) -> NoReturn:
    """Record a denied look-up and raise the 404.

    The 404 is the same whether the object exists or not, so ids reveal nothing; the
    audit row keeps the attempt for the director's review.
    """
    audit.record(
        action=action,
        actor=user if user is not None and user.is_authenticated else None,
        request=request,
        patient_id=patient_id,
        outcome=AuditEvent.Outcome.DENIED,
        detail=detail,
    )
    raise Http404(message)


def get_or_deny(
    user: AbstractBaseUser | AnonymousUser | None,
    queryset: QuerySet[_M],
    *,
    action: str,
    message: str,
    detail: dict[str, Any] | None = None,
    patient_id: int | None = None,
    request: HttpRequest | None = None,
    **lookup: Any,
) -> _M:
    """The object of ``queryset`` matching ``lookup``, or ``deny`` (404 plus audit row).

    ``queryset`` must already hold only what ``user`` may see: the access rule lives in
    the caller's selector, this function only makes every app fail the same way.
    """
    found = queryset.filter(**lookup).first()
    if found is None:
        deny(
            user,
            action=action,
            message=message,
            detail=detail,
            patient_id=patient_id,
            request=request,
        )
    return found
