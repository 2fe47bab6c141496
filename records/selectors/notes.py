"""Reads of progress notes: the access-checking getters (404 plus an audit row for a
note or plan version outside the user's patients), a patient's notes, and what a note's
page shows beside it (objectives addressed, signatures, addenda)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse

from core.access import get_or_deny
from core.models import User
from patients.access import patients_visible_to
from patients.models import Patient

from ..models import (
    Addendum,
    NoteObjective,
    PlanObjective,
    PlanVersion,
    ProgressNote,
    RecordStatus,
    Signature,
)


def _visible_ids(user: User) -> QuerySet[Patient, Any]:
    return patients_visible_to(user).values("pk")


def note_get_for_user(
    user: User, pk: int, *, request: HttpRequest | None = None, action: str = "records.note.view"
) -> ProgressNote:
    """A note of a patient the user may see (the chart's rule), or 404 and a denied row."""
    return get_or_deny(
        user,
        ProgressNote.objects.filter(patient_id__in=_visible_ids(user)).select_related(
            "patient__site", "site", "author", "cosigned_by", "enrollment"
        ),
        action=action,
        message="No such note.",
        detail={"note": pk},
        request=request,
        pk=pk,
    )


def plan_version_get_for_user(
    user: User, pk: int, *, request: HttpRequest | None = None, action: str = "records.plan.view"
) -> PlanVersion:
    """A plan version of a patient the user may see, or 404 and a denied row."""
    return get_or_deny(
        user,
        PlanVersion.objects.filter(plan__patient_id__in=_visible_ids(user)).select_related(
            "plan__patient__site", "plan__enrollment__site", "author"
        ),
        action=action,
        message="No such plan.",
        detail={"plan_version": pk},
        request=request,
        pk=pk,
    )


def notes_of_patient(patient: Patient) -> QuerySet[ProgressNote]:
    """The patient's notes, newest service first (the list pages through it)."""
    return (
        ProgressNote.objects.filter(patient=patient)
        .select_related("author", "site")
        .order_by("-service_date", "-starts_at", "-pk")
    )


def recent_notes(patient: Patient, *, limit: int = 5) -> list[ProgressNote]:
    return list(notes_of_patient(patient)[:limit])


def note_objectives(note: ProgressNote) -> list[PlanObjective]:
    """The plan objectives the note addressed, each with its goal and problem."""
    ids = NoteObjective.objects.filter(note=note).values("objective_id")
    return list(
        PlanObjective.objects.filter(pk__in=ids)
        .select_related("goal__problem")
        .order_by("goal__problem__position", "goal__position", "position", "pk")
    )


def note_signatures(note: ProgressNote) -> list[Signature]:
    return list(Signature.objects.filter(note=note).order_by("signed_at", "pk"))


def addenda_of(target: ProgressNote | PlanVersion) -> list[Addendum]:
    rows = Addendum.objects.select_related("author")
    if isinstance(target, ProgressNote):
        return list(rows.filter(note=target))
    return list(rows.filter(plan_version=target))


def status_label(note: ProgressNote) -> str:
    """What the lists and the note page call the note's state."""
    if note.status == RecordStatus.DRAFT:
        return "Draft"
    if note.status == RecordStatus.COSIGNED:
        return "Co-signed"
    if note.requires_cosign:
        return "Awaiting co-signature"
    return "Signed"


BADGES = {
    "Draft": "text-bg-secondary",
    "Signed": "text-bg-success",
    "Co-signed": "text-bg-success",
    "Awaiting co-signature": "text-bg-warning",
}


def with_status(note: ProgressNote) -> ProgressNote:
    """The note with ``status_text`` and its badge's ``badge`` class, for the templates."""
    note.status_text = status_label(note)  # type: ignore[attr-defined]
    note.badge = BADGES[note.status_text]  # type: ignore[attr-defined]
    return note


def drafts_of(author: User, *, limit: int = 5) -> list[ProgressNote]:
    """The author's own draft notes, the oldest service first (the most overdue)."""
    return list(
        ProgressNote.objects.filter(author=author, status=RecordStatus.DRAFT)
        .exclude(kind="group")
        .select_related("patient", "site")
        .order_by("due_on", "service_date", "pk")[:limit]
    )


NEW_NOTE_LABELS = {
    "individual": "New individual note",
    "family": "New family note",
    "mat": "New MAT visit note",
}


def new_note_links(patient: Patient) -> list[tuple[str, str]]:
    """(label, url) of the chart's and the list's new-note buttons."""
    base = reverse("records:note_new", args=[patient.pk])
    return [(label, f"{base}?kind={kind}") for kind, label in NEW_NOTE_LABELS.items()]
