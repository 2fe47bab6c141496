"""The portal check-in's forms: one answer, the sitting's language, the final submit."""

from __future__ import annotations

from typing import Any

from django import forms

from core.forms import InputGuard

from ..models import InstrumentItem, Language

CHOOSE = {
    "en": "Choose one of the answers.",
    "es": "Elija una de las respuestas.",
}


def _to_int(value: str) -> int:
    return int(value)


class AnswerForm(InputGuard, forms.Form):
    """One question's answer: only the item's own option values are accepted."""

    value = forms.TypedChoiceField(coerce=_to_int, widget=forms.RadioSelect, choices=())

    def __init__(self, *args: Any, item: InstrumentItem, language: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["value"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [(str(o["value"]), str(o.get(language) or o["en"])) for o in item.options]
        field.label = item.text(language)
        # An optional question may be left blank: the view then moves on without saving.
        field.required = item.required
        message = CHOOSE.get(language, CHOOSE["en"])
        field.error_messages = {
            **field.error_messages,
            "required": message,
            "invalid_choice": message,
        }


class LanguageForm(InputGuard, forms.Form):
    language = forms.ChoiceField(choices=Language.choices)


class CompleteForm(InputGuard, forms.Form):
    """Submit the reviewed answers; the service checks that every question has one."""
