"""Staff screens for patients. Thin: access-checking getter, form, service, redirect.

Every view that takes a patient id goes through ``patient_get_for_user`` (404 for a
patient the user may not see); services' ValidationErrors are shown on the form.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from core import audit
from core.access import staff_required
from core.formats import format_day
from core.forms import add_service_errors
from core.models import Role
from core.panels import collect

from . import forms, services
from .models import INJECTABLE_MEDICATIONS, Consent, MedicationOrder, Patient, ScheduledChange
from .selectors import (
    attach_enrollments,
    backdated_effect,
    chart_for,
    current_enrollment,
    patient_get_for_user,
)
from .selectors import (
    caseload as caseload_query,
)

D, C, M, F = Role.DIRECTOR, Role.COUNSELOR, Role.MEDICAL, Role.FRONT_DESK
INTAKE_ROLES = (F, C, D)
DEMOGRAPHICS_ROLES = (F, C, D)
ENROLLMENT_ROLES = (C, D)
READMIT_ROLES = (F, C, D)
MEDICATION_ROLES = (M, D)
CONSENT_ROLES = (F, C, D)
CASELOAD_PAGE_SIZE = 25


def _form_page(request, *, patient: Patient | None, form, title: str, status: int = 200):
    return render(
        request,
        "patients/form.html",
        {"patient": patient, "form": form, "title": title},
        status=status,
    )


def _chart_url(patient: Patient) -> str:
    return reverse("patients:chart", args=[patient.pk])


def _scheduled_message(change: ScheduledChange) -> str:
    return (
        f"{change.get_kind_display()} scheduled for {format_day(change.effective_date)}: "
        "nothing changes until then. It is listed under Upcoming changes on the chart."
    )


@staff_required(D, C, M, F)
def caseload(request: HttpRequest) -> HttpResponse:
    form = forms.CaseloadFilterForm(request.GET or None, user=request.user)
    qs = caseload_query(request.user, **form.filters())
    page = Paginator(qs, CASELOAD_PAGE_SIZE).get_page(request.GET.get("page"))
    attach_enrollments(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "patients/caseload.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )


@staff_required(*INTAKE_ROLES)
def intake(request: HttpRequest) -> HttpResponse:
    site_id = request.GET.get("site")
    if request.method == "POST":
        form = forms.IntakeForm(request.POST, user=request.user)
        if form.is_valid():
            data = form.service_kwargs()
            try:
                result = services.patient_admit(actor=request.user, **data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                patient = result.patient
                if isinstance(result, ScheduledChange):
                    messages.success(
                        request,
                        f"{patient.display_name} registered ({patient.mrn}). "
                        + _scheduled_message(result),
                    )
                else:
                    messages.success(request, f"{patient.display_name} admitted ({patient.mrn}).")
                return redirect(_chart_url(patient))
    else:
        form = forms.IntakeForm(user=request.user, site_id=site_id)
    return _form_page(request, patient=None, form=form, title="Intake")


@staff_required()
def chart(request: HttpRequest, pk: int) -> HttpResponse:
    patient = patient_get_for_user(request.user, pk, request=request, action="patient.chart_view")
    audit.record(
        action="patient.chart_view",
        request=request,
        patient_id=patient.pk,
        site_id=patient.site_id,
        obj=patient,
    )
    data = chart_for(patient)
    today = services.site_today(patient.site)
    role = request.user.role
    panels = collect("chart", request, patient=patient)
    return render(
        request,
        "patients/chart.html",
        {
            "patient": patient,
            "enrollment": data.enrollment,
            "past_enrollments": data.past_enrollments,
            "medications": data.medications,
            "consents": data.consents,
            "upcoming": data.upcoming,
            "today": today,
            "age": patient.age_on(today),
            "adolescent": patient.is_adolescent_on(today),
            "injectables": [str(m) for m in INJECTABLE_MEDICATIONS],
            "panels": panels,
            "can": {
                "demographics": role in DEMOGRAPHICS_ROLES,
                "enrollment": role in ENROLLMENT_ROLES,
                "readmit": role in READMIT_ROLES,
                "medications": role in MEDICATION_ROLES,
                "consents": role in CONSENT_ROLES,
                "cancel_admission": role in READMIT_ROLES,
            },
        },
    )


@staff_required(*DEMOGRAPHICS_ROLES)
def demographics(request: HttpRequest, pk: int) -> HttpResponse:
    patient = patient_get_for_user(request.user, pk, request=request, action="patient.update")
    form = forms.DemographicsForm(request.POST or None, instance=patient)
    if request.method == "POST" and form.is_valid():
        try:
            services.patient_update(actor=request.user, patient=patient, **form.service_kwargs())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Demographics saved.")
            return redirect(_chart_url(patient))
    return _form_page(request, patient=patient, form=form, title="Edit demographics")


# --- enrollment changes ------------------------------------------------------------


def _enrollment_view(form_class, service: Callable, title: str, done: str, kind: str):
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        patient = patient_get_for_user(
            request.user, pk, request=request, action="enrollment.change"
        )
        enrollment = current_enrollment(patient)
        if enrollment is None:
            messages.error(request, "This patient has no open enrollment.")
            return redirect(_chart_url(patient))
        form = form_class(request.POST or None, enrollment=enrollment)
        if request.method == "POST" and form.is_valid():
            data = form.service_kwargs()
            try:
                result = service(actor=request.user, enrollment=enrollment, **data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                if isinstance(result, ScheduledChange):
                    messages.success(request, _scheduled_message(result))
                else:
                    on = data.get("effective_date") or data["discharge_date"]
                    today = services.site_today(patient.site)
                    effect = backdated_effect(result, kind, on, today)
                    messages.success(request, f"{done} {effect}".strip())
                return redirect(_chart_url(patient))
        return _form_page(request, patient=patient, form=form, title=title)

    view.__name__ = f"enrollment_{service.__name__}"
    return staff_required(*ENROLLMENT_ROLES)(view)


change_phase = _enrollment_view(
    forms.PhaseForm,
    services.enrollment_change_phase,
    "Change phase",
    "Phase changed.",
    ScheduledChange.Kind.PHASE,
)
change_track = _enrollment_view(
    forms.TrackForm,
    services.enrollment_change_track,
    "Change track",
    "Track changed.",
    ScheduledChange.Kind.TRACK,
)
change_level = _enrollment_view(
    forms.LevelForm,
    services.enrollment_change_level,
    "Change level of care",
    "Level of care changed.",
    ScheduledChange.Kind.LEVEL,
)
change_counselor = _enrollment_view(
    forms.CounselorForm,
    services.enrollment_change_counselor,
    "Change primary counselor",
    "Primary counselor changed.",
    ScheduledChange.Kind.COUNSELOR,
)
hold = _enrollment_view(
    forms.HoldForm,
    services.enrollment_hold,
    "Put on hold",
    "Enrollment put on hold.",
    ScheduledChange.Kind.HOLD,
)
resume = _enrollment_view(
    forms.ResumeForm,
    services.enrollment_resume,
    "Resume from hold",
    "Enrollment resumed.",
    ScheduledChange.Kind.RESUME,
)
discharge = _enrollment_view(
    forms.DischargeForm,
    services.enrollment_discharge,
    "Discharge",
    "Patient discharged.",
    ScheduledChange.Kind.DISCHARGE,
)


@staff_required(*READMIT_ROLES)
def readmit(request: HttpRequest, pk: int) -> HttpResponse:
    patient = patient_get_for_user(request.user, pk, request=request, action="enrollment.readmit")
    form = forms.ReadmitForm(request.POST or None, patient=patient)
    if request.method == "POST" and form.is_valid():
        try:
            result = services.enrollment_readmit(
                actor=request.user, patient=patient, **form.service_kwargs()
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if isinstance(result, ScheduledChange):
                messages.success(request, _scheduled_message(result))
            else:
                messages.success(request, "Patient re-admitted: a new enrollment is open.")
            return redirect(_chart_url(patient))
    return _form_page(request, patient=patient, form=form, title="Re-admit")


@staff_required(*READMIT_ROLES)
def scheduled_change_cancel(request: HttpRequest, pk: int, change_pk: int) -> HttpResponse:
    patient = patient_get_for_user(
        request.user, pk, request=request, action="scheduled_change.cancel"
    )
    change = get_object_or_404(
        ScheduledChange.objects.select_related("patient__site"), pk=change_pk, patient=patient
    )
    # Front desk admits, so it may withdraw an admission; changes to care are clinical.
    if change.kind != ScheduledChange.Kind.ADMISSION and request.user.role not in ENROLLMENT_ROLES:
        raise PermissionDenied
    form = forms.ScheduledChangeCancelForm(request.POST or None, change=change)
    if request.method == "POST" and form.is_valid():
        try:
            services.scheduled_change_cancel(
                actor=request.user, change=change, **form.service_kwargs()
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{change.get_kind_display()} cancelled.")
            return redirect(_chart_url(patient))
    title = f"Cancel the {change.get_kind_display().lower()} of {format_day(change.effective_date)}"
    return _form_page(request, patient=patient, form=form, title=title)


# --- medications -----------------------------------------------------------------


def _order(request, pk: int, order_pk: int, action: str) -> tuple[Patient, MedicationOrder]:
    patient = patient_get_for_user(request.user, pk, request=request, action=action)
    order = get_object_or_404(
        MedicationOrder.objects.select_related("patient__site"), pk=order_pk, patient=patient
    )
    return patient, order


@staff_required(*MEDICATION_ROLES)
def medication_add(request: HttpRequest, pk: int) -> HttpResponse:
    patient = patient_get_for_user(request.user, pk, request=request, action="medication.order")
    form = forms.MedicationForm(request.POST or None, patient=patient)
    if request.method == "POST" and form.is_valid():
        try:
            services.medication_order_create(
                actor=request.user, patient=patient, **form.service_kwargs()
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Medication order added.")
            return redirect(_chart_url(patient))
    return _form_page(request, patient=patient, form=form, title="Add medication order")


@staff_required(*MEDICATION_ROLES)
def medication_stop(request: HttpRequest, pk: int, order_pk: int) -> HttpResponse:
    patient, order = _order(request, pk, order_pk, "medication.stop")
    form = forms.MedicationStopForm(request.POST or None, order=order)
    if request.method == "POST" and form.is_valid():
        try:
            services.medication_order_stop(actor=request.user, order=order, **form.service_kwargs())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{order.name} stopped.")
            return redirect(_chart_url(patient))
    return _form_page(request, patient=patient, form=form, title=f"Stop {order.name}")


@staff_required(*MEDICATION_ROLES)
def medication_injection_due(request: HttpRequest, pk: int, order_pk: int) -> HttpResponse:
    patient, order = _order(request, pk, order_pk, "medication.injection_due")
    form = forms.InjectionDueForm(request.POST or None, order=order)
    if request.method == "POST" and form.is_valid():
        try:
            services.medication_order_set_injection_due(
                actor=request.user, order=order, **form.service_kwargs()
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Next injection date saved.")
            return redirect(_chart_url(patient))
    return _form_page(request, patient=patient, form=form, title=f"Next injection of {order.name}")


# --- consents ----------------------------------------------------------------------


@staff_required(*CONSENT_ROLES)
def consent_add(request: HttpRequest, pk: int) -> HttpResponse:
    patient = patient_get_for_user(request.user, pk, request=request, action="consent.record")
    form = forms.ConsentForm(request.POST or None, patient=patient)
    if request.method == "POST" and form.is_valid():
        try:
            services.consent_create(actor=request.user, patient=patient, **form.service_kwargs())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Consent recorded.")
            return redirect(_chart_url(patient))
    return _form_page(request, patient=patient, form=form, title="Record a consent (42 CFR Part 2)")


@staff_required(*CONSENT_ROLES)
def consent_revoke(request: HttpRequest, pk: int, consent_pk: int) -> HttpResponse:
    patient = patient_get_for_user(request.user, pk, request=request, action="consent.revoke")
    consent = (
        Consent.objects.select_related("patient__site")
        .filter(pk=consent_pk, patient=patient)
        .first()
    )
    if consent is None:
        raise Http404("No such consent.")
    form = forms.ConsentRevokeForm(request.POST or None, consent=consent)
    if request.method == "POST" and form.is_valid():
        try:
            services.consent_revoke(actor=request.user, consent=consent, **form.service_kwargs())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Consent revoked.")
            return redirect(_chart_url(patient))
    return _form_page(
        request, patient=patient, form=form, title=f"Revoke consent to {consent.recipient}"
    )
