from __future__ import annotations

from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Layout, Submit
from django import forms

from core import limits
from core.forms import InputGuard, text_field
from drugtests.models import Analyte

from .models import CodeKind


class MatchForm(InputGuard, forms.Form):
    chain_of_custody_id = forms.CharField(
        label="Chain-of-custody id of the specimen",
        max_length=40,
        help_text="As written on the custody form and the specimen's page.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout("chain_of_custody_id", Submit("match", "Match and apply"))


class CloseForm(InputGuard, forms.Form):
    reason = text_field(limits.REASON, label="Why it is closed without applying")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout("reason", Submit("close", "Close the message"))


class CodeForm(InputGuard, forms.Form):
    code = forms.CharField(label="Code", max_length=40, help_text="LOINC, e.g. 19295-5.")
    display = forms.CharField(label="Name", max_length=200, required=False)
    kind = forms.ChoiceField(label="Reports", choices=CodeKind.choices)
    analyte = forms.ChoiceField(
        label="Analyte", choices=[("", "(none)"), *Analyte.choices], required=False
    )
    default_cutoff = forms.DecimalField(
        label="Default cut-off (ng/mL)",
        required=False,
        min_value=0,
        max_digits=9,
        decimal_places=2,
        help_text="For a concentration sent without a reference range.",
    )
    is_active = forms.BooleanField(label="In use", required=False, initial=True)

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["code"].disabled = True
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Div(
                Div("code", css_class="col-md-3"),
                Div("display", css_class="col-md-9"),
                css_class="row",
            ),
            Div(
                Div("kind", css_class="col-md-4"),
                Div("analyte", css_class="col-md-4"),
                Div("default_cutoff", css_class="col-md-4"),
                css_class="row",
            ),
            "is_active",
            Submit("save", "Save code"),
        )


class InterfaceForm(InputGuard, forms.Form):
    name = forms.CharField(label="Laboratory", max_length=120)
    sending_facility = forms.CharField(
        label="Sending facility (MSH-4)",
        max_length=120,
        required=False,
        help_text="Its name or CLIA number as its messages carry it; empty: not checked.",
    )
    is_active = forms.BooleanField(label="Receiving", required=False, initial=True)

    def __init__(self, *args: Any, adding: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields = ["name", "sending_facility"]
        if adding:
            del self.fields["is_active"]  # a new laboratory receives from the start
        else:
            fields.append("is_active")
        self.helper = FormHelper()
        self.helper.form_tag = False
        button = "Add laboratory" if adding else "Save"
        self.helper.layout = Layout(*fields, Submit("save", button))
