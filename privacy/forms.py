from typing import Any, cast

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.db.models import QuerySet

from core import limits
from core.forms import InputGuard, text_field
from core.models import AuditEvent
from patients.models import Consent


class BreakGlassForm(InputGuard, forms.Form):
    mrn = forms.CharField(label="Patient MRN", max_length=20)
    reason = text_field(
        limits.REASON,
        rows=3,
        label="Clinical reason for access",
        help_text="Recorded in the audit trail and sent to the program director.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(
            Submit("submit", "Open chart (emergency access)", css_class="btn-danger")
        )


class TokenForm(forms.Form):
    token = forms.CharField(
        label="6-digit code from your authenticator app",
        # A backup code typed with spaces and hyphens, with room to spare; anything longer
        # is not a code and is refused here, before any lookup.
        max_length=24,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "spellcheck": "false"}),
    )

    def __init__(self, *args: Any, backup_codes: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if backup_codes:
            self.fields["token"].help_text = "Lost your phone? Type one of your backup codes."
        else:
            self.fields["token"].widget.attrs["inputmode"] = "numeric"

    def clean_token(self) -> str:
        token: str = self.cleaned_data["token"].strip()
        return token.replace(" ", "") if token.replace(" ", "").isdigit() else token


class MFAResetForm(InputGuard, forms.Form):
    reason = forms.CharField(
        label="Reason",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="e.g. lost or replaced phone. Recorded in the audit trail.",
    )


class DisclosureForm(InputGuard, forms.Form):
    consent: forms.ModelChoiceField[Consent] = forms.ModelChoiceField(
        queryset=None, label="Consent on file"
    )
    recipient = forms.CharField(max_length=200)
    purpose = forms.CharField(max_length=200)

    def __init__(self, *args: Any, consents: QuerySet[Consent], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast("forms.ModelChoiceField[Consent]", self.fields["consent"]).queryset = consents
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Create disclosure"))


class AuditFilterForm(InputGuard, forms.Form):
    action = forms.CharField(required=False)
    actor = forms.CharField(required=False, label="User")
    patient = forms.IntegerField(required=False, label="Patient id")
    outcome = forms.ChoiceField(
        required=False, choices=[("", "Any outcome"), *AuditEvent.Outcome.choices]
    )
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
