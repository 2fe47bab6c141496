"""42 CFR Part 2 consents."""

from __future__ import annotations

from django import forms

from core.clock import site_today

from ..models import Consent, Patient
from ._common import DateInput, _helper


class ConsentForm(forms.ModelForm):
    class Meta:
        model = Consent
        fields = ["recipient", "purpose", "information_disclosed", "signed_on", "expires_on"]
        widgets = {
            "signed_on": DateInput(),
            "expires_on": DateInput(),
            "information_disclosed": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, patient: Patient, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["signed_on"].initial = site_today(patient.site)
        self.helper = _helper("Record consent")

    def clean(self):
        data = super().clean()
        signed, expires = data.get("signed_on"), data.get("expires_on")
        if signed and expires and expires < signed:
            self.add_error("expires_on", "The consent cannot expire before it was signed.")
        return data

    def validate_constraints(self):
        return None  # checked above and by the service, which saves

    def service_kwargs(self) -> dict:
        return dict(self.cleaned_data)


class ConsentRevokeForm(forms.Form):
    revoked_on = forms.DateField(widget=DateInput())

    def __init__(self, *args, consent, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["revoked_on"].initial = site_today(consent.patient.site)
        self.helper = _helper("Revoke consent", css_class="btn-danger")

    def service_kwargs(self) -> dict:
        return dict(self.cleaned_data)
