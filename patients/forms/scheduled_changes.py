"""Cancelling a scheduled change."""

from __future__ import annotations

from typing import Any

from django import forms

from core.forms import CountedTextarea, InputGuard

from ..models import ScheduledChange
from ..services.scheduled_changes import CANCEL_REASON_MAX
from ._common import _helper


class ScheduledChangeCancelForm(InputGuard, forms.Form):
    reason = forms.CharField(
        widget=CountedTextarea(attrs={"rows": 2}),
        required=False,
        max_length=CANCEL_REASON_MAX,
        help_text="Kept with the change, who cancelled it and when.",
    )

    def __init__(self, *args: Any, change: ScheduledChange, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.change = change
        self.helper = _helper("Cancel the change", css_class="btn-danger")

    def service_kwargs(self) -> dict[str, Any]:
        return dict(self.cleaned_data)
