"""The director's record rules page."""

from __future__ import annotations

from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Fieldset, Layout, Row, Submit
from django import forms

from core.forms import InputGuard

from ..models import NoteFormat, RecordSettings
from ..services.settings import DAY_RANGES

LABELS = {
    "note_due_business_days": "A note is due this many business days after the service",
    "initial_plan_days": "The initial plan is due this many days after admission",
    "review_days_op": "Review the plan every (days), OP 1.0",
    "review_days_iop": "Review the plan every (days), IOP 2.1",
    "review_days_php": "Review the plan every (days), PHP 2.5",
    "level_change_review_days": "After a change of level, review within (days)",
    "cosign_days": "A co-signature is due within (days) of the author's signature",
}


class RecordSettingsForm(InputGuard, forms.Form):
    note_formats = forms.MultipleChoiceField(
        label="Note formats clinicians may use",
        choices=NoteFormat.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Allow at least one note format.",
            "invalid_choice": "Unknown note format: %(value)s (DAP, BIRP or SOAP).",
        },
    )

    def __init__(self, *args: Any, rules: RecordSettings, **kwargs: Any) -> None:
        kwargs["initial"] = {
            "note_formats": rules.allowed_formats,
            **{name: getattr(rules, name) for name in DAY_RANGES},
            **(kwargs.get("initial") or {}),
        }
        super().__init__(*args, **kwargs)
        for name, (least, most) in DAY_RANGES.items():
            message = f"Enter a number of days from {least} to {most}."
            self.fields[name] = forms.IntegerField(
                label=LABELS[name],
                min_value=least,
                max_value=most,
                error_messages={
                    "min_value": message,
                    "max_value": message,
                    "invalid": message,
                    "required": message,
                },
            )
        self.helper = FormHelper()
        self.helper.layout = Layout(
            "note_formats",
            Fieldset(
                "Clocks",
                "note_due_business_days",
                "initial_plan_days",
                Row(
                    Column("review_days_op", css_class="col-12 col-md-4"),
                    Column("review_days_iop", css_class="col-12 col-md-4"),
                    Column("review_days_php", css_class="col-12 col-md-4"),
                ),
                "level_change_review_days",
                "cosign_days",
            ),
        )
        self.helper.add_input(Submit("submit", "Save record rules"))

    def service_kwargs(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in ("note_formats", *DAY_RANGES)}
