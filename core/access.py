"""Who may use which view. Every view names its rule with one of these decorators.

LoginRequiredMiddleware already sends anonymous users to the login page; these
decorators add the role. A role mismatch is a 403; an object the user may not see
is a 404 with a denied row in the audit trail: each app's access-checking getters
(in its ``selectors``) build the queryset of what the user may see and hand it to
``get_or_deny``, the one place that turns "not there" into that 404.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, wraps
from typing import TYPE_CHECKING, Any, Concatenate, NoReturn, ParamSpec, TypeVar, cast

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet, prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponseBase
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, resolve, reverse

from . import audit
from .models import AuditEvent, Role, Site, StaffProfile, User

if TYPE_CHECKING:
    from django_htmx.middleware import HtmxDetails

    from patients.models import Patient

STAFF_ROLES = tuple(Role)


class UserRequest(HttpRequest):
    """A request from a signed-in user: what the decorators below let through.

    ``HttpRequest.user`` is typed ``User | AnonymousUser``; behind ``staff_required`` or
    ``patient_required`` it is always a ``User``, and annotating the view's request with
    this class (or the two below) states that instead of re-checking it in every view.
    """

    user: User
    htmx: HtmxDetails  # set on every request by django_htmx's middleware


# Behind staff_required: the user is active clinic staff (their role checked there).
StaffRequest = UserRequest


class PortalRequest(UserRequest):
    """Behind patient_required: the patient is the signed-in user's own record."""

    patient: Patient


_M = TypeVar("_M", bound=Model)
_P = ParamSpec("_P")
_R = TypeVar("_R", bound=HttpResponseBase)
# The decorators take a view written for the narrowed request and return one that
# Django can call with any request: the check in between is what narrows it.
_StaffView = Callable[Concatenate[StaffRequest, _P], _R]
_PortalView = Callable[Concatenate[PortalRequest, _P], _R]
_AnyView = Callable[Concatenate[HttpRequest, _P], _R]


def _name_rule(view: Callable[..., HttpResponseBase], rule: str) -> None:
    # Read by tests/privacy/test_urlconf_access.py: every routed view names its rule.
    view.access_rule = rule  # type: ignore[attr-defined]


def staff_required(
    *roles: str,
) -> Callable[[_StaffView[_P, _R]], _AnyView[_P, _R]]:
    """Allow active clinic staff; with ``roles``, only those roles."""
    allowed = frozenset(roles or STAFF_ROLES)

    def decorator(view: _StaffView[_P, _R]) -> _AnyView[_P, _R]:
        @wraps(view)
        def wrapper(request: HttpRequest, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
            user = request.user
            if isinstance(user, User) and user.is_clinic_staff and user.role in allowed:
                return view(cast(StaffRequest, request), *args, **kwargs)
            if isinstance(user, User) and not user.is_clinic_staff:
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

        _name_rule(wrapper, f"staff:{','.join(sorted(allowed))}")
        return wrapper

    return decorator


def second_factor_required(view: _StaffView[_P, _R]) -> _AnyView[_P, _R]:
    """Allow everyone the second step applies to (``User.needs_second_factor``): clinic
    staff, and superusers, who may have no staff profile at all."""

    @wraps(view)
    def wrapper(request: HttpRequest, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        user = request.user
        if isinstance(user, User) and user.needs_second_factor:
            return view(cast(StaffRequest, request), *args, **kwargs)
        raise PermissionDenied

    _name_rule(wrapper, "second-factor")
    return wrapper


def patient_required(view: _PortalView[_P, _R]) -> _AnyView[_P, _R]:
    """Allow a patient with a portal account; the view reads ``request.patient``."""

    @wraps(view)
    def wrapper(request: HttpRequest, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        user = request.user
        if not (isinstance(user, User) and user.is_active and user.is_portal_patient):
            raise PermissionDenied
        # The portal takes the patient from the logged-in user, never from the URL.
        # is_portal_patient has just checked that the record is there.
        portal = cast(PortalRequest, request)
        portal.patient = cast("Patient", user.patient_record)
        return view(portal, *args, **kwargs)

    _name_rule(wrapper, "patient:self")
    return wrapper


def staff_sites(staff: StaffProfile) -> list[Site]:
    """The sites a staff member works at, read once per profile object, i.e. once per
    request: a page's access rule and its panels ask several times (the counselor's home
    read them six times). They are kept in Django's prefetch cache, which the relation's
    own ``add``/``remove``/``set``/``clear`` empty, so a change made through the profile
    is seen by the next call."""
    if "sites" not in getattr(staff, "_prefetched_objects_cache", {}):
        prefetch_related_objects([staff], "sites")
    return list(staff.sites.all())


def site_ids_for(user: User) -> list[int] | None:
    """Site ids a staff user works at; None means every site of the organisation."""
    staff = user.staff
    if staff is None:
        return []
    if staff.sees_all_sites:
        return None
    return [s.pk for s in staff_sites(staff)]


def deny(
    user: User | AnonymousUser | None,
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
    user: User | AnonymousUser | None,
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


def may_open(user: User | AnonymousUser | None, url_name: str) -> bool:
    """Whether ``user`` passes the role rule of the view named ``url_name`` (the rule the
    decorators above name): what the navigation and the home panels ask before offering
    a link, so no role is shown a link that answers 403. The object-level check (which
    patient, which site) stays the view's; a view naming no rule is open to anyone signed
    in; a name that does not resolve is never offered."""
    if user is None or not user.is_authenticated or not isinstance(user, User):
        return False
    rule = _rule_of(url_name)
    if rule is None:
        return False
    kind, _, detail = rule.partition(":")
    if kind == "staff":
        return user.is_clinic_staff and user.role in detail.split(",")
    if kind == "patient":
        return user.is_active and user.is_portal_patient
    if kind == "second-factor":
        return user.needs_second_factor
    return True


@cache
def _rule_of(url_name: str) -> str | None:
    # The URLconf does not change while the process runs: one resolve per name.
    try:
        path = reverse(url_name)
    except NoReverseMatch:
        return _rule_of_pattern(url_name)
    return str(getattr(resolve(path).func, "access_rule", ""))


def _rule_of_pattern(url_name: str) -> str | None:
    """The rule of a route that takes arguments (no path to resolve without them)."""
    namespace, _, name = url_name.rpartition(":")
    resolver = get_resolver()
    for part in namespace.split(":") if namespace else ():
        if part not in resolver.namespace_dict:
            return None
        resolver = resolver.namespace_dict[part][1]
    todo = list(resolver.url_patterns)
    while todo:
        entry = todo.pop(0)
        if isinstance(entry, URLResolver):
            if not entry.namespace:  # an include without a namespace of its own
                todo.extend(entry.url_patterns)
        elif isinstance(entry, URLPattern) and entry.name == name:
            return str(getattr(entry.callback, "access_rule", ""))
    return None
