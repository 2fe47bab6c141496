"""The queue's clinician picker (a supervisor or director opens another clinician's
queue; whose they may open is checked by ``selectors.queue.clinician_get_for_user``)."""

from __future__ import annotations

from django import forms

from core.forms import InputGuard


class ClinicianPickForm(InputGuard, forms.Form):
    clinician = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=2**31 - 1,
        error_messages={"invalid": "Choose a clinician from the list."},
    )
