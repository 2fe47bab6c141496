from __future__ import annotations

from core.access import UserRequest
from core.panels import Panel, register
from patients.models import Patient

from .views import RELEASERS


@register("chart", order=92)
def chart(request: UserRequest, patient: Patient) -> Panel | None:
    # No query: a link for the staff who may hand the patient their record.
    if request.user.role not in RELEASERS:
        return None
    return Panel("exchange/_chart.html", {"patient_id": patient.pk})
