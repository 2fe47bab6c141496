from datetime import timedelta
from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from core.forms import InputGuard
from core.models import Site


class ReportFilterForm(InputGuard, forms.Form):
    site: forms.ModelChoiceField[Site] = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="All sites"
    )
    start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, data: Any = None, *, sites: QuerySet[Site], **kwargs: Any) -> None:
        today = timezone.localdate()
        initial = {"start": today - timedelta(weeks=12), "end": today}
        given = data.dict() if hasattr(data, "dict") else dict(data or {})
        given = {k: v for k, v in given.items() if v not in ("", None)}
        merged = {**{k: v.isoformat() for k, v in initial.items()}, **given}
        super().__init__(merged, **kwargs)
        cast("forms.ModelChoiceField[Site]", self.fields["site"]).queryset = sites

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                raise forms.ValidationError("The end date is before the start date.")
            if (end - start).days > 3 * 366:
                raise forms.ValidationError("Choose a period of at most three years.")
        return data
