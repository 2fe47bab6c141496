"""The patient's schedule in the portal, and the calendar feed apps subscribe to."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from core.access import PortalRequest, patient_required
from core.clock import site_today

from .. import ical
from ..selectors.calendar import calendar_feed_active, calendar_feed_for_token
from ..selectors.sessions import patient_sessions
from ..services.calendar_feed import calendar_feed_issue, calendar_feed_revoke

PORTAL_DAYS = 14


@patient_required
def portal_schedule(request: PortalRequest) -> HttpResponse:
    """The patient's next 14 days, in their site's local time, cancellations shown."""
    patient = request.patient
    today = site_today(patient.site)
    sessions = patient_sessions(patient, today, today + timedelta(days=PORTAL_DAYS - 1))
    now = timezone.now()
    sessions = [s for s in sessions if s.ends_at > now]
    feed = calendar_feed_active(patient)
    feed_url = (
        request.build_absolute_uri(reverse("scheduling:ical_feed", args=[feed.token]))
        if feed
        else None
    )
    return render(
        request,
        "scheduling/portal_schedule.html",
        {
            "patient": patient,
            "sessions": sessions,
            "tz": patient.site.tz,
            "feed_url": feed_url,
            # One tap subscribes on phones: calendar apps open webcal:// links themselves.
            "webcal_url": "webcal://" + feed_url.split("://", 1)[1] if feed_url else None,
            "days": PORTAL_DAYS,
        },
    )


@require_POST
@patient_required
def portal_feed(request: PortalRequest) -> HttpResponse:
    """Create, regenerate or revoke the patient's personal calendar URL."""
    if request.POST.get("action") == "revoke":
        calendar_feed_revoke(patient=request.patient)
        messages.success(
            request, gettext("Calendar link turned off. The old link no longer works.")
        )
    else:
        calendar_feed_issue(patient=request.patient)
        messages.success(
            request, gettext("New calendar link created. Any earlier link stopped working.")
        )
    return redirect("scheduling:portal_schedule")


# Calendar apps fetch the feed without a browser session, so it cannot require a login.
# The unguessable, revocable token in the URL is the credential; the feed shows only
# session times and neutral titles (no diagnosis, no program name).
@login_not_required
@never_cache
@require_GET
def ical_feed(request: HttpRequest, token: str) -> HttpResponse:
    feed = calendar_feed_for_token(token)
    if feed is None or feed.patient.is_archived:
        raise Http404("No such calendar.")
    body = ical.patient_calendar(feed.patient, now=timezone.now())
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="schedule.ics"'
    return response
