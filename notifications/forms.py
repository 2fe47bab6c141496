from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Field, Layout, Submit
from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.forms import InputGuard

from .models import PATIENT_OPTIONAL_KINDS, Channel, Kind, Status


class OutboxFilterForm(InputGuard, forms.Form):
    status = forms.ChoiceField(choices=[("", "Any status"), *Status.choices], required=False)
    kind = forms.ChoiceField(choices=[("", "Any kind"), *Kind.choices], required=False)
    channel = forms.ChoiceField(choices=[("", "Any channel"), *Channel.choices], required=False)
    due_from = forms.DateField(
        label="Due from", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    due_to = forms.DateField(
        label="Due to", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.form_class = "row g-2 align-items-end mb-3"
        self.helper.layout = Layout(
            Div(Field("status"), css_class="col-6 col-md-2"),
            Div(Field("kind"), css_class="col-6 col-md-3"),
            Div(Field("channel"), css_class="col-6 col-md-2"),
            Div(Field("due_from"), css_class="col-6 col-md-2"),
            Div(Field("due_to"), css_class="col-6 col-md-2"),
            Div(Submit("filter", "Filter", css_class="btn-secondary"), css_class="col-12 col-md-1"),
        )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("due_from") and data.get("due_to") and data["due_to"] < data["due_from"]:
            self.add_error("due_to", "The end date is before the start date.")
        return data


class PreferenceForm(InputGuard, forms.Form):
    channel = forms.ChoiceField(
        label=_("How should we remind you?"), choices=Channel.choices, widget=forms.RadioSelect
    )
    enabled_kinds = forms.MultipleChoiceField(
        label=_("Remind me about"),
        choices=[(k.value, k.label) for k in PATIENT_OPTIONAL_KINDS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Check-in notices are always sent: a missed check-in counts against you."),
    )
    quiet_start = forms.TimeField(
        label=_("Quiet hours start"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
        help_text=_("No texts or emails during quiet hours (clinic time)."),
    )
    quiet_end = forms.TimeField(
        label=_("Quiet hours end"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    sms_consent = forms.BooleanField(
        label=_(
            "I agree to receive text message reminders at my phone number on file. "
            "Reply STOP at any time to stop them."
        ),
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.layout = Layout(
            "channel",
            "enabled_kinds",
            Div(
                Div(Field("quiet_start"), css_class="col-6"),
                Div(Field("quiet_end"), css_class="col-6"),
                css_class="row",
            ),
            "sms_consent",
            Submit("save", _("Save preferences")),
        )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if (data.get("quiet_start") is None) != (data.get("quiet_end") is None):
            self.add_error("quiet_end", gettext("Give both the start and the end of quiet hours."))
        if data.get("channel") == Channel.SMS and not data.get("sms_consent"):
            self.add_error("sms_consent", gettext("Text messages need your consent."))
        return data


class MarkReadForm(InputGuard, forms.Form):
    """The inbox's buttons: one notification by id, or (no id) all of them. An id that is
    not a positive number is an error, never "all"."""

    id = forms.IntegerField(required=False, min_value=1, max_value=2**31 - 1)


class InboundSmsForm(InputGuard, forms.Form):
    """The provider's webhook fields we keep (Twilio's names). The body is read only for
    its first word, so it is not refused for what else it holds: a STOP must never be
    lost to a stray character."""

    From = forms.CharField(max_length=64)
    To = forms.CharField(max_length=64, required=False)
    MessageSid = forms.CharField(max_length=64, required=False)
