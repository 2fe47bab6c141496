from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core import audit
from core.access import staff_required
from core.panels import collect

from .selectors import current_enrollment, patient_get_for_user


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
    panels = collect("chart", request, patient=patient)
    return render(
        request,
        "patients/chart.html",
        {"patient": patient, "enrollment": current_enrollment(patient), "panels": panels},
    )
