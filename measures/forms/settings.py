"""The director's schedules page: for each instrument and level of care, how often it is
asked and whether at admission and discharge."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms

from core.forms import InputGuard

from ..models import MeasureSchedule

EVERY_MESSAGE = "Enter a number of days from 0 (no repeat) to 366."
PARTS = ("every_days", "at_admission", "at_discharge", "is_active")


class ScheduleSettingsForm(InputGuard, forms.Form):
    def __init__(self, *args: Any, schedules: Sequence[MeasureSchedule], **kwargs: Any) -> None:
        initial = dict(kwargs.get("initial") or {})
        for row in schedules:
            for part in PARTS:
                initial.setdefault(f"s{row.pk}_{part}", getattr(row, part))
        kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        self.schedules = list(schedules)
        for row in self.schedules:
            self.fields[f"s{row.pk}_every_days"] = forms.IntegerField(
                label="Every (days)",
                min_value=0,
                max_value=366,
                error_messages={
                    "min_value": EVERY_MESSAGE,
                    "max_value": EVERY_MESSAGE,
                    "invalid": EVERY_MESSAGE,
                    "required": EVERY_MESSAGE,
                },
            )
            self.fields[f"s{row.pk}_at_admission"] = forms.BooleanField(
                label="At admission", required=False
            )
            self.fields[f"s{row.pk}_at_discharge"] = forms.BooleanField(
                label="At discharge", required=False
            )
            self.fields[f"s{row.pk}_is_active"] = forms.BooleanField(label="On", required=False)

    def rows(self) -> list[tuple[MeasureSchedule, list[forms.BoundField]]]:
        """Each schedule with its four bound fields, for the table."""
        return [(row, [self[f"s{row.pk}_{part}"] for part in PARTS]) for row in self.schedules]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for row in self.schedules:
            every = cleaned.get(f"s{row.pk}_every_days")
            asked = every or cleaned.get(f"s{row.pk}_at_admission")
            asked = asked or cleaned.get(f"s{row.pk}_at_discharge")
            if cleaned.get(f"s{row.pk}_is_active") and every is not None and not asked:
                self.add_error(
                    f"s{row.pk}_every_days",
                    "Repeat it, or ask at admission or discharge, or turn it off.",
                )
        return cleaned

    def service_kwargs(self) -> dict[str, Any]:
        return {
            "values": {
                row.pk: {part: self.cleaned_data[f"s{row.pk}_{part}"] for part in PARTS}
                for row in self.schedules
            }
        }
