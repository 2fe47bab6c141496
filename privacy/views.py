import base64

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from core import audit
from core.access import staff_required
from core.forms import add_service_errors
from core.models import AuditEvent, Role
from patients.access import patient_get_for_user, patients_visible_to
from patients.models import Patient

from . import services
from .forms import AuditFilterForm, BreakGlassForm, DisclosureForm, TokenForm
from .models import BreakGlassGrant, Disclosure


def _safe_next(request: HttpRequest, default: str = "/") -> str:
    target = request.POST.get("next") or request.GET.get("next") or default
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return default


@staff_required()
def mfa(request: HttpRequest) -> HttpResponse:
    """Enrol a TOTP device on first use, then verify a code once per session."""
    user = request.user
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    enrolling = device is None
    if enrolling:
        device, _ = TOTPDevice.objects.get_or_create(
            user=user, confirmed=False, defaults={"name": "Authenticator app"}
        )
    form = TokenForm(request.POST or None, device=device)
    if request.method == "POST" and form.is_valid():
        if enrolling:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            audit.record(action="auth.mfa_enrolled", request=request, obj=device)
        otp_login(request, device)
        audit.record(action="auth.mfa_verified", request=request)
        return redirect(_safe_next(request))
    if request.method == "POST":
        audit.record(action="auth.mfa_failed", request=request, outcome=AuditEvent.Outcome.FAILED)
    context = {"form": form, "enrolling": enrolling, "next": _safe_next(request)}
    if enrolling:
        context["secret"] = base64.b32encode(device.bin_key).decode()
        context["config_url"] = device.config_url
    return render(request, "privacy/mfa.html", context)


@staff_required(Role.COUNSELOR, Role.MEDICAL, Role.FRONT_DESK, Role.COLLECTOR, Role.DIRECTOR)
def break_glass(request: HttpRequest) -> HttpResponse:
    form = BreakGlassForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        staff = request.user.staff
        patient = Patient.objects.filter(
            organization_id=staff.organization_id, mrn=form.cleaned_data["mrn"].strip()
        ).first()
        if patient is None:
            audit.record(
                action="patient.break_glass",
                request=request,
                outcome=AuditEvent.Outcome.FAILED,
                detail={"reason": "unknown MRN"},
            )
            form.add_error("mrn", "No patient has that MRN.")
        elif patients_visible_to(request.user).filter(pk=patient.pk).exists():
            messages.info(request, "This patient is already in your care team's records.")
            return redirect("patients:chart", pk=patient.pk)
        else:
            try:
                services.break_glass_grant(
                    user=request.user,
                    patient=patient,
                    reason=form.cleaned_data["reason"],
                    request=request,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.warning(
                    request,
                    "Emergency access granted and recorded. The program director has been told.",
                )
                return redirect("patients:chart", pk=patient.pk)
    return render(request, "privacy/break_glass.html", {"form": form})


@require_POST
@staff_required(Role.DIRECTOR)
def break_glass_review(request: HttpRequest, pk: int) -> HttpResponse:
    grant = get_object_or_404(
        BreakGlassGrant, pk=pk, patient__organization_id=request.user.staff.organization_id
    )
    services.break_glass_review(grant=grant, reviewer=request.user)
    messages.success(request, "Marked as reviewed.")
    return redirect("home")


@staff_required(Role.DIRECTOR)
def audit_list(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    events = AuditEvent.objects.select_related("actor").order_by("-seq")
    if form.is_valid():
        data = form.cleaned_data
        if data["action"]:
            events = events.filter(action__icontains=data["action"])
        if data["actor"]:
            events = events.filter(actor_label__icontains=data["actor"])
        if data["patient"]:
            events = events.filter(patient_id=data["patient"])
        if data["outcome"]:
            events = events.filter(outcome=data["outcome"])
        if data["since"]:
            events = events.filter(at__date__gte=data["since"])
        if data["until"]:
            events = events.filter(at__date__lte=data["until"])
    # Recorded first: the page is read lazily, and a row written between its count and
    # its slice would push the oldest row of the page off it.
    audit.record(action="audit.viewed", request=request)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(request, "privacy/audit_list.html", {"form": form, "page": page})


@staff_required(Role.DIRECTOR)
def patient_access_log(request: HttpRequest, pk: int) -> HttpResponse:
    """Who viewed or changed this patient's record (the director's 'who viewed' list)."""
    patient = patient_get_for_user(request.user, pk, request=request, action="patient.access_log")
    events = AuditEvent.objects.filter(patient_id=patient.pk).select_related("actor")
    page = Paginator(events.order_by("-seq"), 50).get_page(request.GET.get("page"))
    audit.record(
        action="patient.access_log_viewed", request=request, patient_id=patient.pk, obj=patient
    )
    return render(request, "privacy/access_log.html", {"patient": patient, "page": page})


@staff_required(Role.DIRECTOR, Role.COUNSELOR, Role.FRONT_DESK)
def disclose(request: HttpRequest, pk: int) -> HttpResponse:
    patient = patient_get_for_user(request.user, pk, request=request, action="patient.disclose")
    today = timezone.localdate(timezone.now(), patient.site.tz)
    consents = [c for c in patient.consents.all() if c.is_current(today)]
    current = patient.consents.filter(pk__in=[c.pk for c in consents])
    form = DisclosureForm(request.POST or None, consents=current)
    if request.method == "POST" and form.is_valid():
        try:
            disclosure = services.disclosure_create(
                actor=request.user,
                patient=patient,
                consent=form.cleaned_data["consent"],
                recipient=form.cleaned_data["recipient"],
                purpose=form.cleaned_data["purpose"],
                request=request,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return redirect("privacy:disclosure", pk=disclosure.pk)
    return render(
        request,
        "privacy/disclose.html",
        {"patient": patient, "form": form, "has_consent": bool(consents)},
    )


@staff_required(Role.DIRECTOR, Role.COUNSELOR, Role.FRONT_DESK)
def disclosure_detail(request: HttpRequest, pk: int) -> HttpResponse:
    disclosure = Disclosure.objects.select_related("consent", "disclosed_by").filter(pk=pk).first()
    if disclosure is None:
        raise Http404("No such disclosure.")
    patient = patient_get_for_user(
        request.user, disclosure.patient_id, request=request, action="disclosure.view"
    )
    audit.record(
        action="disclosure.printed", request=request, patient_id=patient.pk, obj=disclosure
    )
    enrollments = patient.enrollments.select_related("track", "phase").prefetch_related("events")
    return render(
        request,
        "privacy/disclosure.html",
        {
            "disclosure": disclosure,
            "patient": patient,
            "enrollments": enrollments,
            "notice": services.PART2_NOTICE,
        },
    )
