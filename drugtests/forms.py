from __future__ import annotations

from typing import Any, cast

from crispy_forms.bootstrap import InlineRadios
from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Fieldset, Layout, Submit
from django import forms
from django.db.models import QuerySet

from core import limits
from core.forms import InputGuard, SiteDateTimeField, text_field
from core.models import Site
from patients.models import Patient

from .models import COLLECTOR_VALIDITY, Analyte, AnalyteOutcome, Method, Selection, SpecimenType
from .selectors import DAY_LIST_MAX_PAGE

YES_NO_UNKNOWN = [("", "Not recorded"), ("yes", "Yes"), ("no", "No")]


def _tri(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


class CollectionForm(InputGuard, forms.Form):
    # Typed and shown on the clock of the site where the specimen is collected (the
    # selection's site), whatever zone the viewer's pages are in.
    collected_at = SiteDateTimeField(
        label="Collected at",
        required=False,
        help_text="Clinic time. Leave empty for now.",
    )
    specimen_type = forms.ChoiceField(label="Specimen type", choices=SpecimenType.choices)
    method = forms.ChoiceField(
        label="Testing", choices=Method.choices, widget=forms.RadioSelect, initial=Method.POC
    )
    observed = forms.BooleanField(label="Collection was observed", required=False)
    temperature_in_range = forms.ChoiceField(
        label="Temperature 90-100 °F within 4 minutes",
        choices=[("", "Not applicable"), ("yes", "In range"), ("no", "Out of range")],
        required=False,
    )
    creatinine_mg_dl = forms.DecimalField(
        label="Creatinine (mg/dL)", required=False, min_value=0, max_digits=6, decimal_places=1
    )
    specific_gravity = forms.DecimalField(
        label="Specific gravity", required=False, min_value=0, max_digits=5, decimal_places=4
    )
    ph = forms.DecimalField(label="pH", required=False, min_value=0, max_value=14, decimal_places=2)
    oxidants_detected = forms.ChoiceField(
        label="Oxidants detected", choices=YES_NO_UNKNOWN, required=False
    )
    validity = forms.ChoiceField(
        label="Validity outcome",
        choices=[("", "Not assessed"), *[(v.value, v.label) for v in COLLECTOR_VALIDITY]],
        required=False,
    )
    chain_of_custody_id = forms.CharField(
        label="Chain-of-custody id",
        max_length=40,
        help_text="Scan the cup's label, or type the id of the lab's custody form.",
    )
    notes = text_field(limits.NOTE, label="Notes", required=False)

    def __init__(
        self, *args: Any, for_cause: bool = False, site: Site | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if site is not None:
            self.use_site(site)
        fields = []
        if for_cause:
            self.fields["for_cause_reason"] = text_field(
                limits.REASON, label="Reason for the for-cause test"
            )
            fields.append("for_cause_reason")
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            *fields,
            Fieldset(
                "Collection",
                Div(
                    Div("specimen_type", css_class="col-md-4"),
                    Div("collected_at", css_class="col-md-4"),
                    Div("chain_of_custody_id", css_class="col-md-4"),
                    css_class="row",
                ),
                "method",
                "observed",
            ),
            Fieldset(
                "Validity",
                Div(
                    Div("temperature_in_range", css_class="col-md-4"),
                    Div("validity", css_class="col-md-4"),
                    Div("oxidants_detected", css_class="col-md-4"),
                    Div("creatinine_mg_dl", css_class="col-md-4"),
                    Div("specific_gravity", css_class="col-md-4"),
                    Div("ph", css_class="col-md-4"),
                    css_class="row",
                ),
            ),
            "notes",
            Submit("save", "Record collection"),
        )

    def use_site(self, site: Site) -> None:
        """Read and show the collection time on ``site``'s clock (set before validating)."""
        cast(SiteDateTimeField, self.fields["collected_at"]).tz = site.tz

    def service_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        kwargs = {
            "specimen_type": d["specimen_type"],
            "method": d["method"],
            "observed": d["observed"],
            "temperature_in_range": _tri(d["temperature_in_range"]),
            "creatinine_mg_dl": d["creatinine_mg_dl"],
            "specific_gravity": d["specific_gravity"],
            "ph": d["ph"],
            "oxidants_detected": _tri(d["oxidants_detected"]),
            "validity": d["validity"],
            "chain_of_custody_id": d["chain_of_custody_id"],
            "notes": d["notes"],
        }
        if d.get("collected_at"):
            kwargs["collected_at"] = d["collected_at"]
        if "for_cause_reason" in d:
            kwargs["for_cause_reason"] = d["for_cause_reason"]
        return kwargs


class ForCauseForm(InputGuard, forms.Form):
    patient: forms.ModelChoiceField[Patient] = forms.ModelChoiceField(
        label="Patient", queryset=None
    )

    def __init__(
        self, *args: Any, patients: QuerySet[Patient] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        cast("forms.ModelChoiceField[Patient]", self.fields["patient"]).queryset = patients


# Negative first: it is preselected and most rows stay on it.
OUTCOME_CHOICES = [
    (AnalyteOutcome.NEGATIVE, AnalyteOutcome.NEGATIVE.label),
    (AnalyteOutcome.POSITIVE, AnalyteOutcome.POSITIVE.label),
    (AnalyteOutcome.NOT_TESTED, AnalyteOutcome.NOT_TESTED.label),
]


class ResultForm(InputGuard, forms.Form):
    """One outcome and one optional concentration per analyte of the policy's panel.

    Every analyte starts negative, as most are: the nurse flips the positives (or marks
    one not tested) instead of choosing each row. The laboratory's name starts as the
    site's usual lab and is kept only for a laboratory result."""

    source = forms.ChoiceField(
        label="Result from", choices=Method.choices, widget=forms.RadioSelect
    )
    lab_name = forms.CharField(label="Laboratory", required=False, max_length=120)

    def __init__(
        self, *args: Any, panel: list[str], method: str, usual_lab: str = "", **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.panel = [a for a in panel if a in Analyte.values]
        if method == Method.LAB:
            cast(forms.ChoiceField, self.fields["source"]).choices = [
                (Method.LAB, Method.LAB.label)
            ]
        self.fields["source"].initial = method
        self.fields["lab_name"].initial = usual_lab
        rows = []
        for code in self.panel:
            label = Analyte(code).label
            self.fields[f"a_{code}"] = forms.ChoiceField(
                label=label,
                choices=OUTCOME_CHOICES,
                initial=AnalyteOutcome.NEGATIVE,
                widget=forms.RadioSelect,
            )
            self.fields[f"ng_{code}"] = forms.DecimalField(
                label=f"{label} ng/mL",
                required=False,
                min_value=0,
                max_digits=9,
                decimal_places=1,
            )
            rows.append(
                Div(
                    Div(
                        InlineRadios(f"a_{code}", template="drugtests/_outcome_radios.html"),
                        css_class="col-md-8",
                    ),
                    Div(f"ng_{code}", css_class="col-md-4"),
                    css_class="row align-items-end border-bottom mb-2",
                    data_analyte=code,
                )
            )
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Div(
                Div("source", css_class="col-md-6"),
                # Shown for a laboratory result only (drugtests.js hides it for a cup).
                Div("lab_name", css_class="col-md-6 js-lab-only"),
                css_class="row",
            ),
            Fieldset(
                "Panel",
                HTML(
                    '<p class="form-text mt-0">Every analyte starts negative: mark the '
                    "positives, and any the test did not cover as not tested.</p>"
                ),
                *rows,
            ),
            Submit("save", "Save results"),
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        # A cup's result has no laboratory, whatever the (hidden) name field still held.
        if data.get("source") != Method.LAB:
            data["lab_name"] = ""
        return data

    def analytes(self) -> dict[str, tuple[str, object]]:
        d = self.cleaned_data
        return {code: (d[f"a_{code}"], d.get(f"ng_{code}")) for code in self.panel}


class ReasonForm(InputGuard, forms.Form):
    reason = text_field(limits.REASON, label="Reason")

    def __init__(self, *args: Any, button: str = "Save", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout("reason", Submit("save", button))


class AlertResolveForm(InputGuard, forms.Form):
    note = text_field(limits.NOTE, label="Note", required=False)


class DayListFilterForm(InputGuard, forms.Form):
    """The day list's filter and page (query string). Bad values are form errors: the
    page then shows the whole day's first page with the error, never a 500."""

    status = forms.ChoiceField(
        label="Status",
        choices=[("", "All statuses"), *Selection.Status.choices],
        required=False,
    )
    page = forms.IntegerField(min_value=1, max_value=DAY_LIST_MAX_PAGE, required=False)

    def filters(self) -> tuple[str, int]:
        """(status, page number) to show: the valid values, else every status on page 1."""
        if not self.is_valid():
            return "", 1
        return self.cleaned_data["status"] or "", self.cleaned_data["page"] or 1
