"""The chart's card for letters, the patient's record and the accounting of disclosures
(one query: the patient's latest letters)."""

from __future__ import annotations

from core.access import UserRequest
from core.models import Role
from core.panels import Panel, register
from patients.models import Patient

from .selectors.access import letters_of

READ_ROLES = (Role.DIRECTOR, Role.COUNSELOR, Role.MEDICAL, Role.FRONT_DESK)


@register("chart", order=95)
def chart(request: UserRequest, patient: Patient) -> Panel | None:
    role = request.user.role
    if role not in READ_ROLES:
        return None
    return Panel(
        "letters/_chart.html",
        {
            "patient_id": patient.pk,
            "letters": list(letters_of(patient)[:5]),
            "is_director": role == Role.DIRECTOR,
        },
    )
