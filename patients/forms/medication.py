"""Medication-assisted treatment orders."""

from __future__ import annotations

from typing import Any

from django import forms

from core import limits
from core.clock import site_today
from core.forms import InputGuard, text_field

from ..models import INJECTABLE_MEDICATIONS, Frequency, Medication, MedicationOrder, Patient
from ._common import DateInput, _helper


class MedicationForm(InputGuard, forms.Form):
    medication = forms.ChoiceField(choices=[("", "---------"), *Medication.choices])
    other_name = forms.CharField(label="Medication name (if other)", max_length=80, required=False)
    dose = forms.CharField(max_length=40, help_text="e.g. 16 mg, 300 mg, 380 mg")
    frequency = forms.ChoiceField(choices=Frequency.choices)
    prescriber = forms.CharField(max_length=120)
    start_date = forms.DateField(widget=DateInput())
    next_injection_due = forms.DateField(
        required=False, widget=DateInput(), help_text="Injected or implanted medications only."
    )
    notes = text_field(limits.NOTE, required=False)

    def __init__(self, *args: Any, patient: Patient, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["start_date"].initial = site_today(patient.site)
        self.helper = _helper("Add medication")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        start, due = data.get("start_date"), data.get("next_injection_due")
        if start and due and due < start:
            self.add_error(
                "next_injection_due", "The next injection cannot be due before the order starts."
            )
        if due and data.get("medication") and data["medication"] not in INJECTABLE_MEDICATIONS:
            self.add_error(
                "next_injection_due",
                "Only injected or implanted medications have an injection due.",
            )
        if data.get("medication") == Medication.OTHER and not data.get("other_name", "").strip():
            self.add_error("other_name", "Name the medication.")
        return data

    def service_kwargs(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class MedicationStopForm(InputGuard, forms.Form):
    stop_date = forms.DateField(widget=DateInput())
    reason = forms.CharField(max_length=200)

    def __init__(self, *args: Any, order: MedicationOrder, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["stop_date"].initial = site_today(order.patient.site)
        self.helper = _helper("Stop medication", css_class="btn-danger")

    def service_kwargs(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class InjectionDueForm(InputGuard, forms.Form):
    next_injection_due = forms.DateField(widget=DateInput())

    def __init__(self, *args: Any, order: MedicationOrder, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["next_injection_due"].initial = order.next_injection_due
        self.helper = _helper("Save")

    def service_kwargs(self) -> dict[str, Any]:
        return dict(self.cleaned_data)
