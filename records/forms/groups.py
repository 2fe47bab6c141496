"""The group-note form: the shared part once, and a short individualized part for each
present attendee (one field each, ``entry_<patient id>``, added for the attendees the
view passes in)."""

from __future__ import annotations

from typing import Any

from django import forms

from core import limits
from core.forms import InputGuard, text_field

from ..models import ServiceType
from ..services.groups import GROUP_SERVICE_TYPES, TOPIC_MAX

ENTRY_PREFIX = "entry_"


def entry_field_name(patient_id: int) -> str:
    return f"{ENTRY_PREFIX}{patient_id}"


class GroupNoteForm(InputGuard, forms.Form):
    topic = forms.CharField(label="Topic", max_length=TOPIC_MAX, required=False)
    service_type = forms.ChoiceField(
        label="Service type",
        choices=[(v, ServiceType(v).label) for v in GROUP_SERVICE_TYPES],
    )
    shared_text = text_field(
        limits.NOTE,
        rows=5,
        label="What the group did",
        help_text="Written once for everyone: the topic covered, interventions, group process.",
        required=False,
    )

    def __init__(
        self, *args: Any, attendees: list[tuple[int, str]] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["shared_text"].widget.attrs.update(
            {"aria-describedby": "shared-help", "class": "form-control"}
        )
        # (patient id, name) of each present attendee: their individualized part.
        for patient_id, name in attendees or []:
            self.fields[entry_field_name(patient_id)] = text_field(
                limits.NOTE,
                rows=2,
                label=f"{name}: individual part",
                required=False,
            )
            self.fields[entry_field_name(patient_id)].widget.attrs["class"] = "form-control"

    def entries(self) -> dict[int, str]:
        return {
            int(name.removeprefix(ENTRY_PREFIX)): value or ""
            for name, value in self.cleaned_data.items()
            if name.startswith(ENTRY_PREFIX)
        }
