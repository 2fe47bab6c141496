"""Thin views: access-checking getter, form, service, redirect (or the PDF itself).

Staff reach a patient through ``patient_get_for_user`` or a getter filtered by
``patients_visible_to``; portal views take the patient from the login, never the URL.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.views.decorators.http import require_GET, require_POST

from core import audit
from core.access import PortalRequest, StaffRequest, get_or_deny, patient_required, staff_required
from core.clock import site_today
from core.formviews import ServiceFormView
from core.models import AuditEvent, Role, Site
from patients.access import patient_get_for_user
from patients.models import Consent, ConsentSection, Patient
from patients.selectors import consent_of
from patients.selectors import sites_for as patient_sites_for

from .forms import BatchForm, LetterForm, LetterheadForm
from .models import Letter, LetterBatch
from .selectors import access
from .services import (
    LETTER_ROLES,
    LetterTampered,
    letter_create,
    letter_pdf_verified,
    letters_batch_create,
    record_pdf_produce,
    site_letterhead_update,
)

D, C, M, F = Role.DIRECTOR, Role.COUNSELOR, Role.MEDICAL, Role.FRONT_DESK
# Who may open a patient's letters and print their record at the patient's request.
READ_ROLES = (D, C, M, F)


def _pdf(content: bytes, filename: str, *, inline: bool) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    kind = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{kind}; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- a patient's letters ------------------------------------------------------------------


@staff_required(*READ_ROLES)
@require_GET
def patient_letters(request: StaffRequest, pk: int) -> HttpResponse:
    """The consents a letter can be written under, the letters sent, and the patient's
    record printed at their request."""
    patient = patient_get_for_user(request.user, pk, request=request, action="letters.patient")
    today = site_today(patient.site)
    audit.record(
        action="letters.patient_viewed",
        request=request,
        patient_id=patient.pk,
        site_id=patient.site_id,
        obj=patient,
    )
    with timezone.override(patient.site.tz):
        return render(
            request,
            "letters/patient.html",
            {
                "patient": patient,
                "consents": access.consents_for_letters(patient, today),
                "letters": list(access.letters_of(patient)),
                "can_write": request.user.role in LETTER_ROLES,
                "is_director": request.user.role == D,
            },
        )


class LetterCreateView(ServiceFormView):
    """A letter under one consent: only the sections it covers can be chosen."""

    template_name = "letters/new.html"
    form_class = LetterForm
    error_status = 422
    patient: Patient
    consent: Consent

    def load(self, **kwargs: Any) -> HttpResponse | None:
        self.patient = patient_get_for_user(
            self.request.user, kwargs["pk"], request=self.request, action="letters.letter_new"
        )
        self.consent = consent_of(self.patient, kwargs["consent_pk"])
        self.today = site_today(self.patient.site)
        if self.consent.is_current(self.today) and self.consent.sections:
            return None
        # Refused before any form: a letter goes only under a current consent that
        # covers something. A post is answered 422, as a refused form is.
        return render(
            self.request,
            "letters/refused.html",
            {"patient": self.patient, "consent": self.consent, "today": self.today},
            status=422 if self.request.method == "POST" else 200,
        )

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "consent": self.consent, "today": self.today}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        covered = set(self.consent.sections)
        return super().get_context_data(
            patient=self.patient,
            consent=self.consent,
            uncovered=[s.label for s in ConsentSection if s.value not in covered],
            **kwargs,
        )

    def perform(self, form: LetterForm) -> Letter:
        return letter_create(
            actor=self.request.user,
            patient=self.patient,
            consent=self.consent,
            request=self.request,
            **form.service_kwargs(),
        )

    def get_success_message(self) -> str:
        return (
            f"Letter to {self.result.recipient} made and recorded in the accounting of disclosures."
        )

    def get_success_url(self) -> str:
        return reverse("letters:letter", args=[self.result.pk])


letter_new = staff_required(*LETTER_ROLES)(LetterCreateView.as_view())


@staff_required(*READ_ROLES)
@require_GET
def letter_detail(request: StaffRequest, pk: int) -> HttpResponse:
    letter = access.letter_get_for_user(request.user, pk, request=request)
    audit.record(
        action="letters.letter_viewed",
        request=request,
        patient_id=letter.patient_id,
        site_id=letter.site_id,
        obj=letter,
    )
    with timezone.override(letter.patient.site.tz):
        return render(request, "letters/letter.html", {"letter": letter})


@staff_required(*READ_ROLES)
@require_GET
def letter_pdf(request: StaffRequest, pk: int) -> HttpResponse:
    """The letter exactly as sent: the stored bytes, their hash checked first."""
    letter = access.letter_get_for_user(request.user, pk, request=request, with_pdf=True)
    try:
        pdf = letter_pdf_verified(letter)
    except LetterTampered:
        audit.record(
            action="letters.letter_tampered",
            request=request,
            patient_id=letter.patient_id,
            site_id=letter.site_id,
            obj=letter,
            outcome=AuditEvent.Outcome.FAILED,
            detail={"sha256": letter.sha256},
        )
        return render(request, "letters/tampered.html", {"letter": letter}, status=409)
    audit.record(
        action="letters.letter_printed",
        request=request,
        patient_id=letter.patient_id,
        site_id=letter.site_id,
        obj=letter,
        detail={"sha256": letter.sha256},
    )
    return _pdf(pdf, letter.filename, inline=True)


@staff_required(D)
@require_GET
def patient_disclosures(request: StaffRequest, pk: int) -> HttpResponse:
    """The director's view of a patient's accounting of disclosures."""
    patient = patient_get_for_user(request.user, pk, request=request, action="letters.disclosures")
    audit.record(
        action="letters.disclosures_viewed",
        request=request,
        patient_id=patient.pk,
        site_id=patient.site_id,
        obj=patient,
    )
    with timezone.override(patient.site.tz):
        return render(
            request,
            "letters/disclosures_staff.html",
            {"patient": patient, "disclosures": access.disclosures_of(patient)},
        )


@staff_required(*READ_ROLES)
@require_POST
def record_pdf_staff(request: StaffRequest, pk: int) -> HttpResponse:
    """The patient's own record, printed by staff at the patient's request."""
    patient = patient_get_for_user(request.user, pk, request=request, action="letters.record")
    pdf = record_pdf_produce(actor=request.user, patient=patient, request=request)
    return _pdf(pdf, f"record-{patient.mrn}.pdf", inline=False)


# --- batch mode ---------------------------------------------------------------------------


class BatchCreateView(ServiceFormView):
    template_name = "letters/batch_new.html"
    form_class = BatchForm
    error_status = 422

    def get_form_kwargs(self) -> dict[str, Any]:
        user = self.request.user
        counselors = access.batch_counselors(user)
        return {
            **super().get_form_kwargs(),
            "counselors": counselors,
            "recipients": access.caseload_recipients(user, counselors),
            "user": user,
            "today": timezone.localdate(),
        }

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        user = self.request.user
        sites = list(patient_sites_for(user)) if user.role == D else []
        return super().get_context_data(sites=sites, **kwargs)

    def perform(self, form: BatchForm) -> LetterBatch:
        return letters_batch_create(
            actor=self.request.user, request=self.request, **form.service_kwargs()
        )

    def get_success_url(self) -> str:
        return reverse("letters:batch", args=[self.result.pk])


batch_new = staff_required(*LETTER_ROLES)(BatchCreateView.as_view())


@staff_required(*LETTER_ROLES)
@require_GET
def batch_detail(request: StaffRequest, pk: int) -> HttpResponse:
    batch = access.batch_get_for_user(request.user, pk, request=request)
    letters = access.batch_letters(request.user, batch)
    audit.record(
        action="letters.batch_viewed",
        request=request,
        obj=batch,
        detail={"patients": [letter.patient_id for letter in letters]},
    )
    return render(request, "letters/batch.html", {"batch": batch, "letters": letters})


# --- the letterhead -----------------------------------------------------------------------


class LetterheadView(ServiceFormView):
    template_name = "letters/letterhead.html"
    form_class = LetterheadForm
    error_status = 422
    site: Site

    def load(self, **kwargs: Any) -> HttpResponse | None:
        self.site = get_or_deny(
            self.request.user,
            patient_sites_for(self.request.user),
            action="letters.letterhead_view",
            message="No such site.",
            request=self.request,
            pk=kwargs["site_pk"],
        )
        return None

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "site": self.site}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            site=self.site, sites=list(patient_sites_for(self.request.user)), **kwargs
        )

    def perform(self, form: LetterheadForm) -> Site:
        return site_letterhead_update(
            actor=self.request.user, site=self.site, request=self.request, **form.service_kwargs()
        )

    def get_success_message(self) -> str:
        return f"Letterhead of {self.site.name} saved."

    def get_success_url(self) -> str:
        return reverse("letters:letterhead", args=[self.site.pk])


letterhead = staff_required(D)(LetterheadView.as_view())


# --- the portal ---------------------------------------------------------------------------


@patient_required
@require_GET
def my_record(request: PortalRequest) -> HttpResponse:
    """The patient's own record to download: a readable PDF, and the machine-readable
    FHIR file where the exchange app serves it."""
    return render(request, "letters/my_record.html", {"patient": request.patient})


@patient_required
@require_POST
def my_record_pdf(request: PortalRequest) -> HttpResponse:
    patient = request.patient
    try:
        # The PDF is written in English (its headings are not translated yet): labels
        # in it stay English too rather than mixing two languages.
        with translation.override(settings.LANGUAGE_CODE):
            pdf = record_pdf_produce(actor=request.user, patient=patient, request=request)
    except ValidationError:
        return redirect("letters:my_record")
    return _pdf(pdf, "my-record.pdf", inline=False)


@patient_required
@require_GET
def my_disclosures(request: PortalRequest) -> HttpResponse:
    """What of the patient's record went to whom and when (their accounting of
    disclosures, 42 CFR 2.24)."""
    patient = request.patient
    audit.record(
        action="letters.disclosures_viewed",
        request=request,
        patient_id=patient.pk,
        site_id=patient.site_id,
        obj=patient,
        detail={"page": "portal"},
    )
    with timezone.override(patient.site.tz):
        return render(
            request,
            "letters/my_disclosures.html",
            {"patient": patient, "disclosures": access.disclosures_of(patient)},
        )
