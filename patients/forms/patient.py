"""The patient's demographics: the fields, their layout (intake shows them too) and the
edit form."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from crispy_forms.layout import Column, Fieldset, Layout, Row
from django import forms
from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_datetime

from core.clock import site_today
from core.forms import InputGuard, counted
from core.phones import phone_can_text, set_phone_region

from ..models import ContactChannel, Patient
from ..services.patient import (
    PATIENT_EDITABLE_FIELDS,
    PHONE_FIELDS,
    SMS_NEEDS_MOBILE,
    SMS_NEEDS_NUMBER,
    validate_date_of_birth,
)
from ._common import DateInput, _helper

DEMOGRAPHIC_FIELDS = [
    "legal_first_name",
    "legal_last_name",
    "preferred_name",
    "date_of_birth",
    "sex",
    "gender_identity",
    "phone",
    "email",
    "preferred_contact",
    "preferred_language",
    "emergency_contact_name",
    "emergency_contact_relationship",
    "emergency_contact_phone",
    "primary_substance",
    "secondary_substance",
    "naloxone_kit_given_on",
    "safety_notes",
]
assert set(DEMOGRAPHIC_FIELDS) == PATIENT_EDITABLE_FIELDS

DEMOGRAPHIC_WIDGETS = {
    "date_of_birth": DateInput(),
    "naloxone_kit_given_on": DateInput(),
    "safety_notes": counted(2),
}


def _demographics_layout() -> list[Fieldset]:
    return [
        Fieldset(
            "Patient",
            Row(
                Column("legal_first_name", css_class="col-md-4"),
                Column("legal_last_name", css_class="col-md-4"),
                Column("preferred_name", css_class="col-md-4"),
            ),
            Row(
                Column("date_of_birth", css_class="col-md-4"),
                Column("sex", css_class="col-md-4"),
                Column("gender_identity", css_class="col-md-4"),
            ),
            Row(
                Column("phone", css_class="col-md-4"),
                Column("email", css_class="col-md-4"),
                Column("preferred_contact", css_class="col-md-4"),
            ),
            Row(Column("preferred_language", css_class="col-md-4")),
            Row(
                Column("emergency_contact_name", css_class="col-md-4"),
                Column("emergency_contact_relationship", css_class="col-md-4"),
                Column("emergency_contact_phone", css_class="col-md-4"),
            ),
            Row(
                Column("primary_substance", css_class="col-md-6"),
                Column("secondary_substance", css_class="col-md-6"),
            ),
            Row(
                Column("naloxone_kit_given_on", css_class="col-md-4"),
                Column("safety_notes", css_class="col-md-8"),
            ),
        )
    ]


def check_sms_contact(form: forms.BaseForm) -> None:
    """Text messages as the preferred contact need a number a text can reach (the
    service checks it too; here the message lands on the form's own field)."""
    data = form.cleaned_data
    if data.get("preferred_contact") != ContactChannel.SMS or "phone" in form.errors:
        return
    phone = data.get("phone", "")
    if not phone_can_text(phone):
        form.add_error("preferred_contact", SMS_NEEDS_MOBILE if phone else SMS_NEEDS_NUMBER)


def language_or_keep(form: forms.BaseForm, current: str) -> str:
    """The chosen language; left out of a post (a form posted by a script, a page from
    before the field), the patient's current one, so nothing is switched unasked."""
    value: str = form.cleaned_data.get("preferred_language") or ""
    return value or current


class DemographicsForm(InputGuard, forms.ModelForm[Patient]):
    # The record's updated_at when the form was rendered (refuses a concurrent edit).
    loaded_at = forms.CharField(widget=forms.HiddenInput)

    class Meta:
        model = Patient
        fields = DEMOGRAPHIC_FIELDS
        widgets = DEMOGRAPHIC_WIDGETS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["loaded_at"].initial = self.instance.updated_at.isoformat()
        self.fields["preferred_language"].required = False
        self.helper = _helper("Save")
        self.helper.layout = Layout(*_demographics_layout(), "loaded_at")
        set_phone_region(self, self.instance.site.country, *PHONE_FIELDS)
        for name in PHONE_FIELDS:
            legacy = getattr(self.instance, f"{name}_legacy")
            if legacy and not getattr(self.instance, name):
                # The unreadable text kept from before numbers were checked, put back in
                # the box: saving the form means correcting or clearing it.
                self.initial[name] = legacy
                self.fields[name].help_text = "Not a valid number: correct it or clear it."

    def clean_preferred_language(self) -> str:
        return language_or_keep(self, self.instance.preferred_language)

    def clean_loaded_at(self) -> datetime:
        value = parse_datetime(self.cleaned_data["loaded_at"])
        if value is None:
            raise ValidationError("Reload the page and try again.")
        return value

    def service_kwargs(self) -> dict[str, Any]:
        data = {f: self.cleaned_data[f] for f in DEMOGRAPHIC_FIELDS}
        data["expected_updated_at"] = self.cleaned_data["loaded_at"]
        return data

    def clean_date_of_birth(self) -> date:
        born: date = self.cleaned_data["date_of_birth"]
        try:
            validate_date_of_birth(born, site_today(self.instance.site))
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["date_of_birth"]) from exc
        return born

    def clean(self) -> dict[str, Any]:
        super().clean()
        check_sms_contact(self)
        return self.cleaned_data

    def validate_constraints(self) -> None:
        # The service saves; nothing here touches the database's constraints.
        return None
