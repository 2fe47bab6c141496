"""The chart's scores: every instrument's trend and sittings of one patient, one sitting's
item-level answers, and "make due now". Clinicians only (front desk and collectors read
no clinical content); the patient through the chart's own access rule."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from core import audit, clock
from core.access import StaffRequest, staff_required
from core.formviews import safe_next_url
from patients.access import patient_get_for_user

from ..forms.entry import RequestForm
from ..models import Administration, SafetyEvent
from ..selectors.chart import (
    CLINICAL_ROLES,
    active_instruments,
    administration_get_for_user,
    answer_rows,
    mode_text,
    trend_chart,
    trends_for,
)
from ..services.administrations import administration_create


@staff_required(*CLINICAL_ROLES)
@require_http_methods(["GET"])
def patient_scores(request: StaffRequest, patient_id: int) -> HttpResponse:
    patient = patient_get_for_user(
        request.user, patient_id, request=request, action="measures.scores_view"
    )
    audit.record(
        action="measures.scores_view",
        request=request,
        patient_id=patient.pk,
        site_id=patient.site_id,
        obj=patient,
    )
    trends = trends_for(patient)
    shown = [(trend, trend_chart(trend, patient.site.tz)) for trend in trends]
    with timezone.override(patient.site.tz):
        return render(
            request,
            "measures/chart_scores.html",
            {
                "patient": patient,
                "trends": shown,
                "instruments": active_instruments(),
            },
        )


@staff_required(*CLINICAL_ROLES)
@require_http_methods(["GET"])
def administration(request: StaffRequest, pk: int) -> HttpResponse:
    found = administration_get_for_user(request.user, pk, request=request)
    patient = found.patient
    audit.record(
        action="measures.administration_view",
        request=request,
        patient_id=patient.pk,
        site_id=patient.site_id,
        obj=found,
    )
    event = SafetyEvent.objects.filter(administration=found).first()
    with timezone.override(patient.site.tz):
        return render(
            request,
            "measures/chart_administration.html",
            {
                "administration": found,
                "patient": patient,
                "answers": answer_rows(found),
                "mode": mode_text(found) if found.mode else "",
                "safety_event": event,
            },
        )


@staff_required(*CLINICAL_ROLES)
@require_POST
def request_due(request: StaffRequest, patient_id: int) -> HttpResponse:
    """Make an instrument due now; the portal then shows it to the patient."""
    patient = patient_get_for_user(
        request.user, patient_id, request=request, action="measures.request"
    )
    back = safe_next_url(request, reverse("patients:chart", args=[patient.pk]))
    form = RequestForm(request.POST, instruments=active_instruments())
    if not form.is_valid():
        messages.error(request, "Choose a questionnaire to make due.")
        return redirect(back)
    instrument = form.instruments[form.cleaned_data["instrument"]]
    made = administration_create(
        actor=request.user,
        patient=patient,
        instrument=instrument,
        reason=Administration.Reason.AD_HOC,
        due_on=clock.site_today(patient.site),
    )
    if made is None:
        messages.info(request, f"{instrument.short_name} is already due for this patient.")
    else:
        messages.success(request, f"{instrument.short_name} is due now.")
    return redirect(back)
