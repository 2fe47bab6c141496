"""Setting an alert aside: acknowledge (in hand) or snooze (back later), with a reason."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms

from core.forms import InputGuard

from .models import REASON_MAX, SNOOZE_MAX_DAYS


class AcknowledgeForm(InputGuard, forms.Form):
    reason = forms.CharField(
        max_length=REASON_MAX,
        help_text="Why it is in hand (kept in the record).",
    )


class SnoozeForm(InputGuard, forms.Form):
    until = forms.DateField(
        label="Back on",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=f"At most {SNOOZE_MAX_DAYS} days from today.",
    )
    reason = forms.CharField(max_length=REASON_MAX, help_text="Why it can wait.")

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_until(self) -> date:
        until: date = self.cleaned_data["until"]
        if until <= self.today:
            raise forms.ValidationError("Choose a day after today.")
        if until > self.today + timedelta(days=SNOOZE_MAX_DAYS):
            raise forms.ValidationError(f"Snooze for at most {SNOOZE_MAX_DAYS} days.")
        return until
