"""Cancelling a scheduled change."""

from __future__ import annotations

from django import forms

from ..services.scheduled_changes import CANCEL_REASON_MAX
from ._common import _helper


class ScheduledChangeCancelForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=CANCEL_REASON_MAX,
        help_text="Kept with the change, who cancelled it and when.",
    )

    def __init__(self, *args, change, **kwargs):
        super().__init__(*args, **kwargs)
        self.change = change
        self.helper = _helper("Cancel the change", css_class="btn-danger")

    def service_kwargs(self) -> dict:
        return dict(self.cleaned_data)
