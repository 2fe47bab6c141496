"""Who may use which view. Every view names its rule with one of these decorators.

LoginRequiredMiddleware already sends anonymous users to the login page; these
decorators add the role. A role mismatch is a 403; an object the user may not see
is a 404 (raised by the access-checking getters in each app's ``selectors``).
"""

from collections.abc import Callable, Iterable
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest

from . import audit
from .models import AuditEvent, Role

STAFF_ROLES = tuple(Role)


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
