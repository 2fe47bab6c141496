"""The portal's language picker."""

from __future__ import annotations

from django import forms

from core.forms import InputGuard

from ..models import Language


class LanguageForm(InputGuard, forms.Form):
    language = forms.ChoiceField(choices=Language.choices)
