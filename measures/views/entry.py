"""A staff member enters a whole instrument with the patient, on one page; the sitting is
marked as entered with staff, by whom."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.urls import reverse

from core.access import staff_required
from core.formviews import ServiceFormView
from patients.access import patient_get_for_user
from patients.models import Patient

from ..forms.entry import StaffEntryForm, item_field_name
from ..models import Administration, Instrument, Language
from ..selectors.chart import CLINICAL_ROLES
from ..services.administrations import instrument_current
from ..services.entry import staff_entry_record


class StaffEntryView(ServiceFormView):
    template_name = "measures/entry.html"
    error_status = 422
    patient: Patient
    instrument: Instrument

    def load(self, **kwargs: Any) -> HttpResponse | None:
        self.patient = patient_get_for_user(
            self.request.user,
            kwargs["patient_id"],
            request=self.request,
            action="measures.staff_entry",
        )
        try:
            self.instrument = instrument_current(kwargs["code"])
        except ValidationError as exc:  # no active instrument of that code
            raise Http404("No such questionnaire.") from exc
        return None

    def language(self) -> str:
        chosen = self.request.POST.get("language") or self.request.GET.get("lang") or ""
        return chosen if chosen in Language.values else Language.ENGLISH

    def get_form_class(self) -> Any:
        return StaffEntryForm

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs.update(instrument=self.instrument, language=self.language())
        return kwargs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form = context["form"]
        context.update(
            patient=self.patient,
            instrument=self.instrument,
            intro=self.instrument.intro(self.language()),
            item_fields=[form[item_field_name(item.number)] for item in form.items],
            other_language=Language.SPANISH
            if self.language() == Language.ENGLISH
            else Language.ENGLISH,
        )
        return context

    def perform(self, form: StaffEntryForm) -> Administration:
        return staff_entry_record(
            actor=self.request.user,
            patient=self.patient,
            instrument=self.instrument,
            answers=form.answers(),
            language=form.cleaned_data["language"],
        )

    def get_success_message(self) -> str:
        done: Administration = self.result
        text = f"{done.instrument.short_name} entered with the patient: {done.total}"
        if done.band:
            text += f" ({done.band})"
        if hasattr(done, "safety_event"):
            text += ". A safety answer was given: record the safety follow-up today."
        return text + "."

    def get_success_url(self) -> str:
        return reverse("measures:administration", args=[self.result.pk])


staff_entry = staff_required(*CLINICAL_ROLES)(StaffEntryView.as_view())
