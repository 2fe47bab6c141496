"""42 CFR Part 2 consents."""

from __future__ import annotations

from typing import Any

from django import forms

from core.clock import site_today
from core.forms import InputGuard, counted

from ..models import Consent, ConsentSection, Patient
from ._common import DateInput, _helper


class ConsentForm(InputGuard, forms.ModelForm[Consent]):
    sections = forms.MultipleChoiceField(
        label="A compliance letter to this recipient may report",
        choices=ConsentSection.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Tick only what the signed consent names; a letter can include nothing else.",
        error_messages={"invalid_choice": "Unknown section: %(value)s."},
    )

    class Meta:
        model = Consent
        fields = [
            "recipient",
            "purpose",
            "information_disclosed",
            "sections",
            "signed_on",
            "expires_on",
        ]
        widgets = {
            "signed_on": DateInput(),
            "expires_on": DateInput(),
            "information_disclosed": counted(2),
        }

    def __init__(self, *args: Any, patient: Patient, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["signed_on"].initial = site_today(patient.site)
        self.helper = _helper("Record consent")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        signed, expires = data.get("signed_on"), data.get("expires_on")
        if signed and expires and expires < signed:
            self.add_error("expires_on", "The consent cannot expire before it was signed.")
        return data

    def validate_constraints(self) -> None:
        return None  # checked above and by the service, which saves

    def service_kwargs(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class ConsentRevokeForm(InputGuard, forms.Form):
    revoked_on = forms.DateField(widget=DateInput())

    def __init__(self, *args: Any, consent: Consent, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["revoked_on"].initial = site_today(consent.patient.site)
        self.helper = _helper("Revoke consent", css_class="btn-danger")

    def service_kwargs(self) -> dict[str, Any]:
        return dict(self.cleaned_data)
