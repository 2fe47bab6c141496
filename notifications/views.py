from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from core.access import PortalRequest, StaffRequest, patient_required, staff_required
from core.formviews import safe_next_url
from core.models import Role
from core.phones import phone_can_text

from . import selectors
from .forms import InboundSmsForm, MarkReadForm, OutboxFilterForm, PreferenceForm
from .inbound import inbound_sms_record, webhook_signature_ok
from .models import PATIENT_OPTIONAL_KINDS
from .outbox import notification_resend, notifications_mark_read
from .preferences import preference_for, preference_update

logger = logging.getLogger(__name__)

OUTBOX_PAGE = 50
INBOX_PAGE = 20


@patient_required
def inbox(request: PortalRequest) -> HttpResponse:
    if request.method == "POST":
        form = MarkReadForm(request.POST)
        if form.is_valid():
            one = form.cleaned_data["id"]
            notifications_mark_read(user=request.user, ids=[one] if one else None)
        else:
            messages.error(request, gettext("That notification could not be found."))
        return redirect("notifications:inbox")
    rows = selectors.inbox_for(request.user)
    page = Paginator(rows, INBOX_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/inbox.html",
        {
            "page": page,
            "unread": selectors.unread_count(request.user),
            "tzname": request.patient.site.time_zone,
        },
    )


@patient_required
def preferences(request: PortalRequest) -> HttpResponse:
    pref = preference_for(request.user)
    if request.method == "POST":
        form = PreferenceForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                preference_update(
                    actor=request.user,
                    user=request.user,
                    channel=data["channel"],
                    disabled_kinds=[
                        k for k in PATIENT_OPTIONAL_KINDS if k not in data["enabled_kinds"]
                    ],
                    quiet_start=data["quiet_start"],
                    quiet_end=data["quiet_end"],
                    sms_consent=data["sms_consent"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, gettext("Your reminder preferences are saved."))
                return redirect("notifications:preferences")
    else:
        form = PreferenceForm(
            initial={
                "channel": pref.channel,
                "enabled_kinds": [k for k in PATIENT_OPTIONAL_KINDS if pref.wants(k)],
                "quiet_start": pref.quiet_start,
                "quiet_end": pref.quiet_end,
                "sms_consent": pref.sms_allowed,
            }
        )
    return render(
        request,
        "notifications/preferences.html",
        {
            "form": form,
            "pref": pref,
            "site": request.patient.site,
            "phone_on_file": phone_can_text(request.patient.phone),
            "email_on_file": bool(request.patient.email or request.user.email),
        },
    )


@staff_required(Role.DIRECTOR, Role.COUNSELOR)
def outbox(request: StaffRequest) -> HttpResponse:
    form = OutboxFilterForm(request.GET or None)
    rows = selectors.outbox_for(request.user)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        for name in ("status", "kind", "channel"):
            if data[name]:
                rows = rows.filter(**{name: data[name]})
        if data["due_from"]:
            rows = rows.filter(due_at__date__gte=data["due_from"])
        if data["due_to"]:
            rows = rows.filter(due_at__date__lte=data["due_to"])
    page = Paginator(rows, OUTBOX_PAGE).get_page(request.GET.get("page"))
    for row in page:
        # Times in the patient's site time zone (the outbox may span sites); the
        # template reads it from the row, so it is set here rather than declared.
        row.tzname = (  # type: ignore[attr-defined]
            row.patient.site.time_zone
            if row.patient is not None
            else settings.DEFAULT_SITE_TIME_ZONE
        )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "notifications/outbox.html",
        {"form": form, "page": page, "query": query.urlencode(), "now": timezone.now()},
    )


@staff_required(Role.DIRECTOR, Role.COUNSELOR)
@require_POST
def resend(request: StaffRequest, pk: int) -> HttpResponse:
    original = selectors.outbox_get_for_user(request.user, pk)
    try:
        row = notification_resend(actor=request.user, notification=original)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Queued again as notification #{row.pk}.")
    return redirect(safe_next_url(request, reverse("notifications:outbox")))


@staff_required()
@require_POST
def staff_mark_read(request: StaffRequest) -> HttpResponse:
    """Staff read their own alerts on the home panel; this clears the unread count."""
    notifications_mark_read(user=request.user)
    return redirect("home")


# Public on purpose: the SMS provider (Twilio or compatible) posts inbound texts here
# without a user session. Every post must carry the provider's signature over what it
# sent (``inbound.webhook_signature_ok``); a secret in the query string is refused, even
# with a good signature, because URLs are written to access logs. CSRF-exempt because
# the caller is a server; it reveals nothing (the answer is always an empty TwiML
# document) and only records opt-outs/opt-ins for the sending number.
@login_not_required
@csrf_exempt
@require_POST
def sms_inbound(request: HttpRequest) -> HttpResponse:
    if "token" in request.GET:
        # Logged without the query string: the point is not to write the secret anywhere.
        logger.warning("sms webhook: refused a post with a secret in its URL (%s)", request.path)
        return HttpResponse(status=403)
    url = settings.SMS_WEBHOOK_URL or request.build_absolute_uri(request.path)
    if request.META.get("QUERY_STRING"):
        url = f"{url}?{request.META['QUERY_STRING']}"
    body = request.body  # read before request.POST, which consumes the stream
    if not webhook_signature_ok(
        url=url,
        params={name: request.POST.getlist(name) for name in request.POST},
        body=body,
        headers=request.headers,
    ):
        logger.warning("sms webhook: refused a post without a valid signature")
        return HttpResponse(status=403)
    form = InboundSmsForm(request.POST)
    if not form.is_valid():
        return HttpResponse(status=400)
    inbound_sms_record(
        from_number=form.cleaned_data["From"],
        to_number=form.cleaned_data["To"],
        body=request.POST.get("Body", ""),  # read for its keyword only; never stored
        provider_id=form.cleaned_data["MessageSid"],
    )
    return HttpResponse(
        '<?xml version="1.0" encoding="UTF-8"?><Response></Response>',
        content_type="text/xml",
    )
