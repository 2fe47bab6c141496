"""Forms of the chart's measures: a whole instrument on one page for a staff member
sitting with the patient, and "make due now"."""

from __future__ import annotations

from typing import Any

from django import forms

from core.forms import InputGuard

from ..models import Instrument, Language


def item_field_name(number: int) -> str:
    return f"item_{number}"


class StaffEntryForm(InputGuard, forms.Form):
    """One radio group per item, in the instrument's order, texts in the sitting's
    language; the values are the options' own, so a tampered value is refused here."""

    language = forms.ChoiceField(choices=Language.choices, widget=forms.HiddenInput)

    def __init__(self, *args: Any, instrument: Instrument, language: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instrument = instrument
        self.items = list(instrument.items.all())
        self.fields["language"].initial = language
        for item in self.items:
            self.fields[item_field_name(item.number)] = forms.TypedChoiceField(
                label=f"{item.link_id}. {item.text(language)}",
                choices=[
                    (option["value"], str(option.get(language) or option.get("en") or ""))
                    for option in item.options
                ],
                coerce=int,
                required=item.required,
                empty_value=None,
                widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
                error_messages={"required": "Choose an answer to this question."},
            )

    def answers(self) -> dict[int, int]:
        """Item pk -> chosen value, for the answered items."""
        chosen: dict[int, int] = {}
        for item in self.items:
            value = self.cleaned_data.get(item_field_name(item.number))
            if value is not None:
                chosen[item.pk] = int(value)
        return chosen


class RequestForm(InputGuard, forms.Form):
    """Make one instrument due now (reason: requested by staff)."""

    instrument = forms.ChoiceField(choices=())

    def __init__(self, *args: Any, instruments: list[Instrument], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instruments = {i.code: i for i in instruments}
        field = self.fields["instrument"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(i.code, i.short_name) for i in instruments]
