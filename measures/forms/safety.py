"""The staff's record of a safety follow-up."""

from __future__ import annotations

from django import forms

from core import limits
from core.forms import InputGuard, text_field

from ..models import SafetyEvent


class SafetyFollowupForm(InputGuard, forms.Form):
    action = forms.ChoiceField(
        choices=[("", "Choose what was done"), *SafetyEvent.Action.choices],
        label="What was done",
    )
    note = text_field(
        limits.NOTE,
        rows=4,
        label="Note",
        help_text="What you assessed, what was agreed, who else was told.",
    )
