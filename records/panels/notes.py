"""The chart's progress-notes panel (the last few notes with their status and the
new-note buttons) and the staff home's "My draft notes" (the clinician's own drafts, most
overdue first, each a link straight to its edit page; the counts of everything owed are
the queue's panel). One query each, whatever the number of notes."""

from __future__ import annotations

from django.urls import reverse

from core.access import UserRequest
from core.clock import site_today
from core.models import Site
from core.panels import Panel, register
from patients.models import Patient

from ..selectors.notes import drafts_of, new_note_links, recent_notes, with_status
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


@register("staff_home", order=35)
def my_drafts(request: UserRequest, sites: list[Site]) -> Panel | None:
    if request.user.role not in CLINICIANS:
        return None
    drafts = drafts_of(request.user)
    if not drafts:
        return None
    for note in drafts:
        note.overdue = site_today(note.site) > note.due_on  # type: ignore[attr-defined]
    return Panel(template="records/notes/_panel_my_drafts.html", context={"drafts": drafts})
