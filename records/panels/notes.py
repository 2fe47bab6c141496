"""The chart's progress-notes panel: the last few notes with their status and the
new-note buttons. One query whatever the number of notes. (A clinician's drafts are on
the staff home through the queue's panel, records.panels.queue.)"""

from __future__ import annotations

from django.urls import reverse

from core.access import UserRequest
from core.panels import Panel, register
from patients.models import Patient

from ..selectors.notes import new_note_links, recent_notes, with_status
from ..services._common import CLINICAL_ROLES

# Who reads and writes notes: the same roles every records write requires.
CLINICIANS = CLINICAL_ROLES


@register("chart", order=35)
def chart(request: UserRequest, patient: Patient) -> Panel | None:
    # Front desk and collectors do not read clinical notes (records.views.notes).
    if request.user.role not in CLINICIANS:
        return None
    notes = recent_notes(patient, limit=5)
    for note in notes:
        with_status(note)
    return Panel(
        template="records/notes/_panel_chart.html",
        context={
            "notes": notes,
            "new_links": new_note_links(patient),
            "all_url": reverse("records:patient_notes", args=[patient.pk]),
        },
    )
