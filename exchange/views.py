"""A patient's FHIR Bundle, given to the patient: downloaded by the patient from the
portal, or by staff from the chart at the patient's request. Each download is a
disclosure to the patient (``services.bundle_disclose``), so it is made by a POST: the
GET shows the page with the button (a link, a crawler or a browser's prefetch discloses
nothing)."""

from __future__ import annotations

import json
import re

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.http import require_http_methods

from core import clock
from core.access import PortalRequest, StaffRequest, patient_required, staff_required
from core.models import Role
from patients.access import patient_get_for_user
from patients.models import Patient

from .fhir import Resource
from .selectors import patient_for_export
from .services import bundle_disclose

# Who may hand a patient their record: the roles that make disclosures (privacy).
RELEASERS = (Role.DIRECTOR, Role.COUNSELOR, Role.FRONT_DESK)


def _attachment(bundle: Resource, patient: Patient) -> HttpResponse:
    response = HttpResponse(
        json.dumps(bundle, ensure_ascii=False, indent=2),
        content_type="application/fhir+json; charset=utf-8",
    )
    mrn = re.sub(r"[^A-Za-z0-9-]+", "-", patient.mrn).strip("-") or "patient"
    day = clock.site_today(patient.site)
    # A neutral name: the file may sit in a shared downloads folder.
    response["Content-Disposition"] = f'attachment; filename="health-record-{mrn}-{day}.json"'
    return response


@patient_required
@require_http_methods(["GET", "POST"])
def my_bundle(request: PortalRequest) -> HttpResponse:
    if request.method != "POST":
        return render(request, "exchange/my_bundle.html")
    patient = patient_for_export(request.patient.pk)
    # The file is for software: its texts (service types, kinds) in the clinic's English,
    # the same file whoever downloads it, not in the portal's language.
    with translation.override(settings.LANGUAGE_CODE):
        bundle, _ = bundle_disclose(actor=request.user, patient=patient, request=request)
    return _attachment(bundle, patient)


@staff_required(*RELEASERS)
@require_http_methods(["GET", "POST"])
def patient_bundle(request: StaffRequest, pk: int) -> HttpResponse:
    allowed = patient_get_for_user(request.user, pk, request=request, action="exchange.bundle")
    if request.method != "POST":
        return render(request, "exchange/patient_bundle.html", {"patient": allowed})
    patient = patient_for_export(allowed.pk)
    bundle, _ = bundle_disclose(actor=request.user, patient=patient, request=request)
    return _attachment(bundle, patient)
