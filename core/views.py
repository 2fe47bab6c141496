import logging
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import clock
from .access import (
    PortalRequest,
    StaffRequest,
    UserRequest,
    patient_required,
    staff_required,
    staff_sites,
)
from .audit import oldest_unsealed_at
from .heartbeat import beat_last_heartbeat
from .panels import collect

logger = logging.getLogger(__name__)


def home(request: UserRequest) -> HttpResponse:
    # Only LoginRequiredMiddleware guards this page: the user is signed in, any role.
    user = request.user
    if user.is_clinic_staff:
        return staff_home(request)
    if user.is_portal_patient:
        return portal_home(request)
    # An account with neither role (e.g. a deactivated staff profile) sees nothing.
    return render(request, "core/no_role.html", status=403)


@staff_required()
def staff_home(request: StaffRequest) -> HttpResponse:
    staff = request.user.staff
    assert staff is not None  # staff_required let only clinic staff in
    sites = staff_sites(staff) if not staff.sees_all_sites else None
    if sites is None:
        sites = list(staff.organization.sites.filter(is_active=True))
    panels = collect("staff_home", request, sites=sites)
    return render(
        request,
        "core/staff_home.html",
        {"staff": staff, "sites": sites, "panels": panels},
    )


@patient_required
def portal_home(request: PortalRequest) -> HttpResponse:
    patient = request.patient
    panels = collect("portal_home", request, patient=patient)
    return render(request, "core/portal_home.html", {"patient": patient, "panels": panels})


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    status = {"database": "ok", "broker": "ok"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        logger.warning("healthz: database down: %s", exc)
        status["database"] = "down"
    try:
        # The app the project configured (clinic.celery sets it as current): core sits
        # below clinic and does not import it.
        with current_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        logger.warning("healthz: broker down: %s", exc)
        status["broker"] = "down"
    try:
        last = beat_last_heartbeat()
    except Exception as exc:
        logger.warning("healthz: beat heartbeat unreadable: %s", exc)
        status["beat"] = "unknown"
    else:
        fresh = last is not None and clock.now() - last <= timedelta(
            seconds=settings.BEAT_STALE_SECONDS
        )
        # Stale: beat, the broker or every worker has stopped, and with them reminders,
        # draws and scheduled changes.
        status["beat"] = "ok" if fresh else "stale"
    try:
        oldest = oldest_unsealed_at()
    except Exception as exc:
        logger.warning("healthz: audit backlog unreadable: %s", exc)
        status["audit"] = "unknown"
    else:
        behind = oldest is not None and clock.now() - oldest > timedelta(
            seconds=settings.AUDIT_SEAL_STALE_SECONDS
        )
        status["audit"] = "behind" if behind else "ok"
    healthy = all(v == "ok" for v in status.values())
    return JsonResponse(
        {"status": "ok" if healthy else "down", **status}, status=200 if healthy else 503
    )


@login_not_required
def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


@login_not_required
def server_error(request: HttpRequest) -> HttpResponse:
    # No context processors that touch the database: the error may be the database.
    from django.template import loader

    return HttpResponse(loader.get_template("500.html").render(), status=500)


@login_not_required
def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", status=403)


def root_redirect(request: HttpRequest) -> HttpResponse:
    return redirect("home")
