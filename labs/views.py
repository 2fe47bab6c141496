from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core import audit
from core.access import StaffRequest, staff_required
from core.forms import add_service_errors
from core.models import AuditEvent, Role

from . import selectors
from .forms import CloseForm, CodeForm, InterfaceForm, MatchForm
from .models import Channel, InboundMessage
from .services.inbound import messages_receive
from .services.review import message_close, message_match, message_retry
from .services.setup import code_save, interface_create, interface_token_issue, interface_update

logger = logging.getLogger(__name__)

D, M = Role.DIRECTOR, Role.MEDICAL
# Who enters lab results by hand (drugtests' clinicians) works the queue of those that
# came in by interface; the code table and the laboratories are the director's.
REVIEWERS = (D, M)
HL7_MEDIA_TYPE = "x-application/hl7-v2+er7; charset=utf-8"


# Public on purpose: a laboratory's interface engine posts results here without a user
# session. The bearer token of the interface in the path authenticates each post (only
# its hash is stored); CSRF-exempt because the caller is a server, not a browser. A bad
# or missing token is a 401 that stores nothing (the refusal is in the audit trail).
@login_not_required
@csrf_exempt
@require_POST
def inbound(request: HttpRequest, pk: int) -> HttpResponse:
    interface = selectors.interface_for_token(pk, request.headers.get("Authorization", ""))
    if interface is None:
        logger.warning("labs: refused a post to interface %s without a valid token", pk)
        audit.record(
            action="labs.inbound_refused",
            request=request,
            outcome=AuditEvent.Outcome.DENIED,
            detail={"interface_pk": pk},
        )
        response = HttpResponse("A valid bearer token is required.\n", status=401)
        response["WWW-Authenticate"] = 'Bearer realm="stepwise-labs"'
        return response
    try:
        body = request.body
    except RequestDataTooBig:
        return HttpResponse("The body is too large; send fewer messages at once.\n", status=413)
    receipts = messages_receive(interface=interface, data=body, channel=Channel.HTTP)
    if not receipts:
        return HttpResponse("No HL7 message in the body.\n", status=400)
    return HttpResponse("".join(r.ack for r in receipts), content_type=HL7_MEDIA_TYPE)


@staff_required(*REVIEWERS)
@require_GET
def queue(request: StaffRequest) -> HttpResponse:
    return render(
        request,
        "labs/queue.html",
        {
            "waiting": selectors.review_queue(request.user),
            "recent": selectors.recent_messages(request.user),
            "is_director": request.user.role == D,
        },
    )


@staff_required(*REVIEWERS)
@require_GET
def message_detail(request: StaffRequest, pk: int) -> HttpResponse:
    message = selectors.message_get_for_user(request.user, pk)
    return _message_page(request, message)


def _message_page(
    request: StaffRequest,
    message: InboundMessage,
    *,
    match_form: MatchForm | None = None,
    close_form: CloseForm | None = None,
    status: int = 200,
) -> HttpResponse:
    audit.record(
        action="labs.message_view",
        request=request,
        obj=message,
        patient_id=message.specimen.patient_id if message.specimen else None,
    )
    waiting = message.status in selectors.WAITING
    return render(
        request,
        "labs/message.html",
        {
            "message": message,
            "observations": selectors.message_observations(message),
            "candidates": (
                selectors.candidates(request.user, message) if message.specimen is None else []
            ),
            "can_match": message.status == InboundMessage.Status.HELD and message.specimen is None,
            "can_retry": message.status == InboundMessage.Status.HELD
            and message.specimen is not None,
            "can_close": waiting,
            "match_form": match_form or MatchForm(),
            "close_form": close_form or CloseForm(),
            "is_director": request.user.role == D,
        },
        status=status,
    )


@staff_required(*REVIEWERS)
@require_POST
def match(request: StaffRequest, pk: int) -> HttpResponse:
    message = selectors.message_get_for_user(request.user, pk)
    form = MatchForm(request.POST)
    if form.is_valid():
        specimen = selectors.specimen_for_match(
            request.user, form.cleaned_data["chain_of_custody_id"]
        )
        if specimen is None:
            form.add_error("chain_of_custody_id", "No collected specimen you can see has that id.")
        else:
            try:
                message = message_match(actor=request.user, message=message, specimen=specimen)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _outcome_text(message))
                return redirect("labs:message", pk=message.pk)
    return _message_page(request, message, match_form=form, status=422)


@staff_required(*REVIEWERS)
@require_POST
def retry(request: StaffRequest, pk: int) -> HttpResponse:
    message = selectors.message_get_for_user(request.user, pk)
    try:
        message = message_retry(actor=request.user, message=message)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _outcome_text(message))
    return redirect("labs:message", pk=message.pk)


@staff_required(*REVIEWERS)
@require_POST
def close(request: StaffRequest, pk: int) -> HttpResponse:
    message = selectors.message_get_for_user(request.user, pk)
    form = CloseForm(request.POST)
    if form.is_valid():
        try:
            message_close(actor=request.user, message=message, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Closed without applying; the message is kept.")
            return redirect("labs:queue")
    return _message_page(request, message, close_form=form, status=422)


def _outcome_text(message: InboundMessage) -> str:
    if message.status == InboundMessage.Status.APPLIED:
        return "Applied to the specimen's results."
    return f"Still waiting: {message.review_note or message.get_status_display()}"


# --- the code table -----------------------------------------------------------------


@staff_required(D)
@require_http_methods(["GET", "POST"])
def codes(request: StaffRequest) -> HttpResponse:
    form = CodeForm(request.POST or None, initial={"is_active": True})
    if request.method == "POST" and form.is_valid():
        try:
            row, tried = code_save(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _code_saved(row.code, tried))
            return redirect("labs:codes")
    return render(
        request,
        "labs/codes.html",
        {"codes": selectors.codes(request.user), "form": form},
        status=422 if form.errors else 200,
    )


@staff_required(D)
@require_http_methods(["GET", "POST"])
def code_edit(request: StaffRequest, pk: int) -> HttpResponse:
    row = selectors.code_get(request.user, pk)
    initial = {
        "code": row.code,
        "display": row.display,
        "kind": row.kind,
        "analyte": row.analyte,
        "default_cutoff": row.default_cutoff,
        "is_active": row.is_active,
    }
    form = CodeForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            row, tried = code_save(actor=request.user, instance=row, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _code_saved(row.code, tried))
            return redirect("labs:codes")
    return render(
        request,
        "labs/code_edit.html",
        {"row": row, "form": form},
        status=422 if form.errors else 200,
    )


def _code_saved(code: str, tried: int) -> str:
    if not tried:
        return f"Code {code} saved."
    return f"Code {code} saved; {tried} waiting message(s) tried again."


# --- the laboratories -----------------------------------------------------------------


@staff_required(D)
@require_http_methods(["GET", "POST"])
def interfaces(request: StaffRequest) -> HttpResponse:
    form = InterfaceForm(request.POST or None, adding=True)
    if request.method == "POST" and form.is_valid():
        try:
            interface, token = interface_create(
                actor=request.user,
                name=form.cleaned_data["name"],
                sending_facility=form.cleaned_data["sending_facility"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _token_page(request, interface.pk, interface.name, token)
    return render(
        request,
        "labs/interfaces.html",
        {"interfaces": selectors.interfaces_for(request.user), "form": form},
        status=422 if form.errors else 200,
    )


@staff_required(D)
@require_http_methods(["GET", "POST"])
def interface_edit(request: StaffRequest, pk: int) -> HttpResponse:
    interface = selectors.interface_get_for_user(request.user, pk)
    initial = {
        "name": interface.name,
        "sending_facility": interface.sending_facility,
        "is_active": interface.is_active,
    }
    form = InterfaceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            interface_update(actor=request.user, interface=interface, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Laboratory saved.")
            return redirect("labs:interfaces")
    return render(
        request,
        "labs/interface_edit.html",
        {"interface": interface, "form": form, "endpoint": _endpoint(request, interface.pk)},
        status=422 if form.errors else 200,
    )


@staff_required(D)
@require_POST
def interface_token(request: StaffRequest, pk: int) -> HttpResponse:
    interface = selectors.interface_get_for_user(request.user, pk)
    token = interface_token_issue(actor=request.user, interface=interface)
    return _token_page(request, interface.pk, interface.name, token)


def _endpoint(request: HttpRequest, pk: int) -> str:
    return request.build_absolute_uri(reverse("labs:inbound", kwargs={"pk": pk}))


def _token_page(request: StaffRequest, pk: int, name: str, token: str) -> HttpResponse:
    # Shown once, on this response only (never in a message or a redirect's session).
    context: dict[str, Any] = {"name": name, "token": token, "endpoint": _endpoint(request, pk)}
    response = render(request, "labs/token.html", context)
    response["Cache-Control"] = "no-store"
    return response
