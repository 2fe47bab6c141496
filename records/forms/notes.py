"""Forms of progress notes: start a note, write its draft, sign it, add an addendum.

Times are typed as the site's wall clock (a date and two times); the view turns them into
instants with ``core.clock.local_datetime`` in the note's site's zone."""

from __future__ import annotations

from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Field, Layout, Row, Submit
from django import forms

from core import limits
from core.formats import format_day
from core.forms import BoundedDateField, InputGuard, text_field

from ..models import FORMAT_SECTIONS, SECTION_LABELS, AddendumKind, NoteFormat, PlanObjective
from ..services.notes import NOTE_KINDS, NOTE_SERVICES

SECTION_HELP = {
    "data": "What was observed and said in the session.",
    "behavior": "What the patient presented with and did.",
    "subjective": "What the patient reports, in their own words where it matters.",
    "objective": "What the clinician observed or measured.",
    "intervention": "What the clinician did.",
    "assessment": "The clinician's reading of progress towards the plan's objectives.",
    "response": "How the patient responded to the service.",
    "plan": "Next steps: the next session, homework, referrals.",
}


def objective_label(objective: PlanObjective) -> str:
    """Goal > objective, as the plan reads (the golden thread a note names)."""
    return f"{objective.goal.text} > {objective.text} (target {format_day(objective.target_date)})"


def _add_service_fields(form: forms.BaseForm) -> None:
    """The service a note documents, typed on the site's clock (fields added in
    ``__init__``: the two forms share them, and a shared base form class would be one
    more form the hostile walk must bind)."""
    form.fields["service_type"] = forms.ChoiceField(
        label="Service", choices=[(s.value, s.label) for s in NOTE_SERVICES]
    )
    form.fields["service_date"] = BoundedDateField(label="Date of service")
    form.fields["start"] = forms.TimeField(
        label="Started", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    form.fields["end"] = forms.TimeField(
        label="Ended", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )


def _clean_times(form: forms.Form, data: dict[str, Any]) -> dict[str, Any]:
    if data.get("start") and data.get("end") and data["end"] <= data["start"]:
        form.add_error("end", "The service must end after it starts.")
    return data


def _service_row() -> Row:
    return Row(
        Column("service_type", css_class="col-12 col-md-6"),
        Column("service_date", css_class="col-12 col-md-6"),
        Column("start", css_class="col-6 col-md-3"),
        Column("end", css_class="col-6 col-md-3"),
    )


class NoteStartForm(InputGuard, forms.Form):
    """Kind, format and service: starting the note makes the draft its sections are
    written in (which sections depends on the format chosen here)."""

    error_fields = {"starts_at": "start", "ends_at": "end"}

    kind = forms.ChoiceField(label="Kind of note", choices=[(k.value, k.label) for k in NOTE_KINDS])
    format = forms.ChoiceField(label="Format")

    def __init__(self, *args: Any, formats: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _add_service_fields(self)
        field = self.fields["format"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(f, NoteFormat(f).label) for f in formats if f in NoteFormat.values]
        field.error_messages["invalid_choice"] = (
            f"This site does not use that format: choose {', '.join(formats)}."
        )
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Row(
                Column("kind", css_class="col-12 col-md-6"),
                Column("format", css_class="col-12 col-md-6"),
            ),
            _service_row(),
        )
        self.helper.add_input(Submit("submit", "Start the note"))

    def clean(self) -> dict[str, Any]:
        return _clean_times(self, super().clean() or {})


class NoteEditForm(InputGuard, forms.Form):
    """The draft: the service, the sections of its format, the objectives addressed."""

    error_fields = {"starts_at": "start", "ends_at": "end", "objective_ids": "objectives"}

    objectives = forms.TypedMultipleChoiceField(
        label="Plan objectives addressed",
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="From the plan in force: the golden thread auditors look for.",
    )

    def __init__(
        self, *args: Any, format: str, objectives: list[PlanObjective], **kwargs: Any
    ) -> None:  # noqa: A002 - the note's field
        super().__init__(*args, **kwargs)
        _add_service_fields(self)
        self.section_names = FORMAT_SECTIONS[format]
        for name in self.section_names:
            self.fields[name] = text_field(
                limits.NOTE,
                rows=4,
                label=SECTION_LABELS[name],
                required=False,
                help_text=SECTION_HELP[name],
            )
        field = self.fields["objectives"]
        assert isinstance(field, forms.TypedMultipleChoiceField)
        field.choices = [(o.pk, objective_label(o)) for o in objectives]
        if not objectives:
            field.help_text = "The patient has no signed plan in force yet."
        self.helper = FormHelper()
        self.helper.layout = Layout(
            _service_row(), *[Field(n) for n in self.section_names], Field("objectives")
        )
        self.helper.add_input(Submit("submit", "Save draft"))

    def clean(self) -> dict[str, Any]:
        return _clean_times(self, super().clean() or {})

    def sections(self) -> dict[str, str]:
        return {name: self.cleaned_data.get(name) or "" for name in self.section_names}


class NoteSignForm(InputGuard, forms.Form):
    confirm = forms.BooleanField(
        label="I wrote this note; it is complete and accurate. Once signed it cannot be "
        "changed, only added to by an addendum.",
        required=True,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Sign the note"))


class AddendumForm(InputGuard, forms.Form):
    kind = forms.ChoiceField(
        label="Kind",
        choices=AddendumKind.choices,
        help_text="A late entry records something that should have been in the original.",
    )
    text = text_field(limits.NOTE, rows=5, label="Addendum")
    reason = text_field(limits.REASON, rows=2, label="Reason", required=False)

    def __init__(self, *args: Any, submit: str = "Add addendum", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", submit))
