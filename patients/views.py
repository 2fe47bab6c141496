"""Staff screens for patients. Thin: access-checking getter, form, service, redirect.

Every view that takes a patient id goes through ``patient_get_for_user`` (404 for a
patient the user may not see); the form pages are ``ServiceFormView`` subclasses, so
services' ValidationErrors are shown on the form the same way everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Min
from django.http import HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from core import audit
from core.access import PortalRequest, StaffRequest, patient_required, staff_required
from core.clock import site_today
from core.formats import format_day
from core.formviews import ServiceFormView, safe_next_url
from core.models import Role
from core.panels import collect
from core.timeline import KINDS as TIMELINE_KINDS
from core.timeline import collect as timeline_collect
from core.timeline import month_of, month_window, next_month, previous_month

from .forms.admission import IntakeForm, ReadmitForm
from .forms.caseload import CaseloadFilterForm
from .forms.consents import ConsentForm, ConsentRevokeForm
from .forms.enrollment import (
    CounselorForm,
    DischargeForm,
    EnrollmentChangeForm,
    HoldForm,
    LevelForm,
    PhaseForm,
    ResumeForm,
    TrackForm,
)
from .forms.language import LanguageForm
from .forms.medication import InjectionDueForm, MedicationForm, MedicationStopForm
from .forms.patient import DemographicsForm
from .forms.scheduled_changes import ScheduledChangeCancelForm
from .models import INJECTABLE_MEDICATIONS, Enrollment, Patient, ScheduledChange
from .selectors import (
    attach_enrollments,
    backdated_effect,
    chart_for,
    consent_of,
    current_enrollment,
    medication_order_of,
    patient_get_for_user,
    scheduled_change_of,
)
from .selectors import (
    caseload as caseload_query,
)
from .services.admission import enrollment_readmit, patient_admit
from .services.consents import consent_create
from .services.consents import consent_revoke as consent_revoke_service  # a view has its name
from .services.enrollment import (
    enrollment_change_counselor,
    enrollment_change_level,
    enrollment_change_phase,
    enrollment_change_track,
    enrollment_discharge,
    enrollment_hold,
    enrollment_resume,
)
from .services.medication import (
    medication_order_create,
    medication_order_set_injection_due,
    medication_order_stop,
)
from .services.patient import patient_language_set, patient_update
from .services.scheduled_changes import (
    scheduled_change_cancel as scheduled_change_cancel_service,  # a view has its name
)

D, C, M, F = Role.DIRECTOR, Role.COUNSELOR, Role.MEDICAL, Role.FRONT_DESK
INTAKE_ROLES = (F, C, D)
DEMOGRAPHICS_ROLES = (F, C, D)
ENROLLMENT_ROLES = (C, D)
READMIT_ROLES = (F, C, D)
MEDICATION_ROLES = (M, D)
CONSENT_ROLES = (F, C, D)
CASELOAD_PAGE_SIZE = 25
CHART_TIMELINE_SIZE = 15


def _chart_url(patient: Patient) -> str:
    return reverse("patients:chart", args=[patient.pk])


def _scheduled_message(change: ScheduledChange) -> str:
    return (
        f"{change.get_kind_display()} scheduled for {format_day(change.effective_date)}: "
        "nothing changes until then. It is listed under Upcoming changes on the chart."
    )


class PatientFormView(ServiceFormView):
    """A form page about one patient: the patient comes through the access-checking
    getter (404 plus audit row under ``access_action``), success returns to the chart."""

    template_name = "patients/form.html"
    access_action = ""
    title = ""
    patient: Patient

    def load(self, **kwargs: Any) -> HttpResponse | None:
        self.patient = patient_get_for_user(
            self.request.user, kwargs["pk"], request=self.request, action=self.access_action
        )
        return None

    def get_title(self) -> str:
        return self.title

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(patient=self.patient, title=self.get_title(), **kwargs)

    def get_success_url(self) -> str:
        return _chart_url(self.patient)


@staff_required(D, C, M, F)
def caseload(request: StaffRequest) -> HttpResponse:
    form = CaseloadFilterForm(request.GET or None, user=request.user)
    qs = caseload_query(request.user, **form.filters())
    page = Paginator(qs, CASELOAD_PAGE_SIZE).get_page(request.GET.get("page"))
    # A list for the selector; the queryset's cache keeps them the rows the page shows.
    attach_enrollments(list(page.object_list))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "patients/caseload.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )


class IntakeView(ServiceFormView):
    template_name = "patients/form.html"
    form_class = IntakeForm

    def get_form_kwargs(self) -> dict[str, Any]:
        # Intake binds every POST (an empty one shows "required" errors), and a GET
        # may preselect the site from the query string.
        if self.request.method == "POST":
            return {"data": self.request.POST, "user": self.request.user}
        return {"user": self.request.user, "site_id": self.request.GET.get("site")}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(patient=None, title="Intake", **kwargs)

    def perform(self, form: IntakeForm) -> Any:
        return patient_admit(actor=self.request.user, **form.service_kwargs())

    def get_success_message(self) -> str:
        patient = self.result.patient
        if isinstance(self.result, ScheduledChange):
            return f"{patient.display_name} registered ({patient.mrn}). " + _scheduled_message(
                self.result
            )
        return f"{patient.display_name} admitted ({patient.mrn})."

    def get_success_url(self) -> str:
        return _chart_url(self.result.patient)


intake = staff_required(*INTAKE_ROLES)(IntakeView.as_view())


@staff_required()
def chart(request: StaffRequest, pk: int) -> HttpResponse:
    patient = patient_get_for_user(request.user, pk, request=request, action="patient.chart_view")
    audit.record(
        action="patient.chart_view",
        request=request,
        patient_id=patient.pk,
        site_id=patient.site_id,
        obj=patient,
    )
    data = chart_for(patient)
    today = site_today(patient.site)
    role = request.user.role
    panels = collect("chart", request, patient=patient)
    timeline_entries = timeline_collect(request.user, patient, limit=CHART_TIMELINE_SIZE)
    return render(
        request,
        "patients/chart.html",
        {
            "patient": patient,
            "timeline": timeline_entries,
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


@staff_required()
def timeline(request: StaffRequest, pk: int) -> HttpResponse:
    """The patient's whole timeline a month at a page (``?month=YYYY-MM``), newest first,
    of every kind or one (``?kind=``); the chart shows its newest entries."""
    patient = patient_get_for_user(
        request.user, pk, request=request, action="patient.timeline_view"
    )
    today = site_today(patient.site)
    this_month = today.replace(day=1)
    month = min(month_of(request.GET.get("month", ""), today), this_month)
    kind = request.GET.get("kind", "")
    if kind not in TIMELINE_KINDS:
        kind = ""
    start, end = month_window(patient.site, month)
    entries = timeline_collect(
        request.user, patient, start=start, end=end, kinds=[kind] if kind else None
    )
    audit.record(
        action="patient.timeline_view",
        request=request,
        patient_id=patient.pk,
        site_id=patient.site_id,
        obj=patient,
        detail={"month": f"{month:%Y-%m}", "kind": kind or "all"},
    )
    # Older months go back to the first admission (or, with none, the month of intake).
    first_admission = patient.enrollments.aggregate(first=Min("admission_date"))["first"]
    earliest = (first_admission or site_today(patient.site, patient.created_at)).replace(day=1)
    older = previous_month(month)
    return render(
        request,
        "patients/timeline.html",
        {
            "patient": patient,
            "entries": entries,
            "month": month,
            "kind": kind,
            "kinds": TIMELINE_KINDS.items(),
            "older": older if older >= earliest else None,
            "newer": next_month(month) if month < this_month else None,
        },
    )


class DemographicsView(PatientFormView):
    form_class = DemographicsForm
    access_action = "patient.update"
    title = "Edit demographics"
    success_message = "Demographics saved."

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "instance": self.patient}

    def perform(self, form: DemographicsForm) -> Any:
        return patient_update(
            actor=self.request.user, patient=self.patient, **form.service_kwargs()
        )


demographics = staff_required(*DEMOGRAPHICS_ROLES)(DemographicsView.as_view())


# --- enrollment changes ------------------------------------------------------------


class EnrollmentChangeView(PatientFormView):
    """One change to the open enrollment; ``as_view`` names the form, service and texts."""

    access_action = "enrollment.change"
    service: Callable[..., Any] | None = None
    done = ""
    kind = ""
    enrollment: Enrollment

    def load(self, **kwargs: Any) -> HttpResponse | None:
        super().load(**kwargs)
        enrollment = current_enrollment(self.patient)
        if enrollment is None:
            messages.error(self.request, "This patient has no open enrollment.")
            return redirect(_chart_url(self.patient))
        self.enrollment = enrollment
        return None

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "enrollment": self.enrollment}

    def perform(self, form: EnrollmentChangeForm) -> Any:
        if self.service is None:
            raise ImproperlyConfigured("EnrollmentChangeView needs as_view(service=...).")
        self.submitted = form.service_kwargs()
        return self.service(actor=self.request.user, enrollment=self.enrollment, **self.submitted)

    def get_success_message(self) -> str:
        if isinstance(self.result, ScheduledChange):
            return _scheduled_message(self.result)
        on = self.submitted.get("effective_date") or self.submitted["discharge_date"]
        today = site_today(self.patient.site)
        effect = backdated_effect(self.result, self.kind, on, today)
        return f"{self.done} {effect}".strip()


def _enrollment_change(
    form_class: type[EnrollmentChangeForm],
    service: Callable[..., Any],
    title: str,
    done: str,
    kind: str,
) -> Callable[..., HttpResponseBase]:
    view = EnrollmentChangeView.as_view(
        form_class=form_class, service=service, title=title, done=done, kind=kind
    )
    return staff_required(*ENROLLMENT_ROLES)(view)


change_phase = _enrollment_change(
    PhaseForm,
    enrollment_change_phase,
    "Change phase",
    "Phase changed.",
    ScheduledChange.Kind.PHASE,
)
change_track = _enrollment_change(
    TrackForm,
    enrollment_change_track,
    "Change track",
    "Track changed.",
    ScheduledChange.Kind.TRACK,
)
change_level = _enrollment_change(
    LevelForm,
    enrollment_change_level,
    "Change level of care",
    "Level of care changed.",
    ScheduledChange.Kind.LEVEL,
)
change_counselor = _enrollment_change(
    CounselorForm,
    enrollment_change_counselor,
    "Change primary counselor",
    "Primary counselor changed.",
    ScheduledChange.Kind.COUNSELOR,
)
hold = _enrollment_change(
    HoldForm,
    enrollment_hold,
    "Put on hold",
    "Enrollment put on hold.",
    ScheduledChange.Kind.HOLD,
)
resume = _enrollment_change(
    ResumeForm,
    enrollment_resume,
    "Resume from hold",
    "Enrollment resumed.",
    ScheduledChange.Kind.RESUME,
)
discharge = _enrollment_change(
    DischargeForm,
    enrollment_discharge,
    "Discharge",
    "Patient discharged.",
    ScheduledChange.Kind.DISCHARGE,
)


class ReadmitView(PatientFormView):
    form_class = ReadmitForm
    access_action = "enrollment.readmit"
    title = "Re-admit"

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "patient": self.patient}

    def perform(self, form: ReadmitForm) -> Any:
        return enrollment_readmit(
            actor=self.request.user, patient=self.patient, **form.service_kwargs()
        )

    def get_success_message(self) -> str:
        if isinstance(self.result, ScheduledChange):
            return _scheduled_message(self.result)
        return "Patient re-admitted: a new enrollment is open."


readmit = staff_required(*READMIT_ROLES)(ReadmitView.as_view())


class ScheduledChangeCancelView(PatientFormView):
    form_class = ScheduledChangeCancelForm
    access_action = "scheduled_change.cancel"
    change: ScheduledChange

    def load(self, **kwargs: Any) -> HttpResponse | None:
        super().load(**kwargs)
        self.change = scheduled_change_of(self.patient, kwargs["change_pk"])
        # Front desk admits, so it may withdraw an admission; changes to care are clinical.
        if (
            self.change.kind != ScheduledChange.Kind.ADMISSION
            and self.request.user.role not in ENROLLMENT_ROLES
        ):
            raise PermissionDenied
        return None

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "change": self.change}

    def perform(self, form: ScheduledChangeCancelForm) -> Any:
        return scheduled_change_cancel_service(
            actor=self.request.user, change=self.change, **form.service_kwargs()
        )

    def get_title(self) -> str:
        kind = self.change.get_kind_display().lower()
        return f"Cancel the {kind} of {format_day(self.change.effective_date)}"

    def get_success_message(self) -> str:
        return f"{self.change.get_kind_display()} cancelled."


scheduled_change_cancel = staff_required(*READMIT_ROLES)(ScheduledChangeCancelView.as_view())


# --- medications -----------------------------------------------------------------


class MedicationAddView(PatientFormView):
    form_class = MedicationForm
    access_action = "medication.order"
    title = "Add medication order"
    success_message = "Medication order added."

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "patient": self.patient}

    def perform(self, form: MedicationForm) -> Any:
        return medication_order_create(
            actor=self.request.user, patient=self.patient, **form.service_kwargs()
        )


medication_add = staff_required(*MEDICATION_ROLES)(MedicationAddView.as_view())


class MedicationOrderView(PatientFormView):
    """A form about one medication order of the patient (404 for another's order)."""

    def load(self, **kwargs: Any) -> HttpResponse | None:
        super().load(**kwargs)
        self.order = medication_order_of(self.patient, kwargs["order_pk"])
        return None

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "order": self.order}


class MedicationStopView(MedicationOrderView):
    form_class = MedicationStopForm
    access_action = "medication.stop"

    def perform(self, form: MedicationStopForm) -> Any:
        return medication_order_stop(
            actor=self.request.user, order=self.order, **form.service_kwargs()
        )

    def get_title(self) -> str:
        return f"Stop {self.order.name}"

    def get_success_message(self) -> str:
        return f"{self.order.name} stopped."


medication_stop = staff_required(*MEDICATION_ROLES)(MedicationStopView.as_view())


class InjectionDueView(MedicationOrderView):
    form_class = InjectionDueForm
    access_action = "medication.injection_due"
    success_message = "Next injection date saved."

    def perform(self, form: InjectionDueForm) -> Any:
        return medication_order_set_injection_due(
            actor=self.request.user, order=self.order, **form.service_kwargs()
        )

    def get_title(self) -> str:
        return f"Next injection of {self.order.name}"


medication_injection_due = staff_required(*MEDICATION_ROLES)(InjectionDueView.as_view())


# --- consents ----------------------------------------------------------------------


class ConsentAddView(PatientFormView):
    form_class = ConsentForm
    access_action = "consent.record"
    title = "Record a consent (42 CFR Part 2)"
    success_message = "Consent recorded."

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "patient": self.patient}

    def perform(self, form: ConsentForm) -> Any:
        return consent_create(
            actor=self.request.user, patient=self.patient, **form.service_kwargs()
        )


consent_add = staff_required(*CONSENT_ROLES)(ConsentAddView.as_view())


class ConsentRevokeView(PatientFormView):
    form_class = ConsentRevokeForm
    access_action = "consent.revoke"
    success_message = "Consent revoked."

    def load(self, **kwargs: Any) -> HttpResponse | None:
        super().load(**kwargs)
        self.consent = consent_of(self.patient, kwargs["consent_pk"])
        return None

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "consent": self.consent}

    def perform(self, form: ConsentRevokeForm) -> Any:
        return consent_revoke_service(
            actor=self.request.user, consent=self.consent, **form.service_kwargs()
        )

    def get_title(self) -> str:
        return f"Revoke consent to {self.consent.recipient}"


consent_revoke = staff_required(*CONSENT_ROLES)(ConsentRevokeView.as_view())


@require_POST
@patient_required
def language_set(request: PortalRequest) -> HttpResponse:
    """The portal's language picker: every later page, reminder and check-in speaks the
    chosen language; the patient lands back on the page they were reading."""
    form = LanguageForm(request.POST)
    back = safe_next_url(request, reverse("home"))
    if not form.is_valid():
        messages.error(request, gettext("Choose English or Spanish."))
        return redirect(back)
    language = form.cleaned_data["language"]
    patient_language_set(actor=request.user, patient=request.patient, language=language)
    with translation.override(language):
        messages.success(request, gettext("The portal now speaks your language."))
    return redirect(back)
