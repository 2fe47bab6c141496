"""What a clinician owes (the queue) and the co-sign actions."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from core import audit, clock
from core.access import StaffRequest, staff_required
from core.formviews import safe_next_url
from core.models import Role

from ..forms.queue import ClinicianPickForm
from ..selectors.queue import (
    QUEUE_SHOWN,
    DueNote,
    OwedSession,
    clinician_get_for_user,
    clinicians_visible_to,
    group_note_get_for_cosign,
    note_get_for_cosign,
    plan_version_get_for_cosign,
    queue_for,
)
from ..services.queue import group_note_cosign
from ..services.queue import note_cosign as note_cosign_service
from ..services.signoff import record_cosign
from ._links import url_maker

CLINICIANS = (Role.DIRECTOR, Role.COUNSELOR, Role.MEDICAL)


def _error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


_T = TypeVar("_T")


def _shown(
    items: list[_T], url_of: Callable[[_T], str], total: int | None = None
) -> tuple[list[tuple[_T, str]], int]:
    """The head of a list with each item's link, and how many more wait (``total`` when
    the selector read only the head)."""
    head = items[:QUEUE_SHOWN]
    whole = len(items) if total is None else total
    return [(item, url_of(item)) for item in head], whole - len(head)


@staff_required(*CLINICIANS)
@require_GET
def queue(request: StaffRequest) -> HttpResponse:
    user = request.user
    form = ClinicianPickForm(request.GET)
    clinician = user
    if form.is_valid() and form.cleaned_data["clinician"]:
        clinician = clinician_get_for_user(user, form.cleaned_data["clinician"], request=request)
    now = clock.now()
    owed = queue_for(clinician, viewer=user, now=now)
    # Other clinicians are offered only to those who may open their queue.
    choices = list(clinicians_visible_to(user))
    audit.record(
        action="records.queue.viewed",
        request=request,
        detail={
            "clinician": clinician.pk,
            "drafts": owed.drafts_count,
            "notes_due": owed.notes_due_count,
            "plans_due": len(owed.plans_due),
            "cosigns": owed.cosigns_count,
        },
    )
    here = request.get_full_path()

    note_url = url_maker("records:note")
    group_url = url_maker("records:group_note")
    version_url = url_maker("records:plan_version")
    plan_url = url_maker("records:plan")

    def note_or_session(d: DueNote | OwedSession) -> str:
        if isinstance(d, DueNote):
            return note_url(d.note.pk)
        return group_url(d.session.pk)

    plan_drafts, hidden_plan_drafts = _shown(owed.plan_drafts, lambda v: version_url(v.pk))
    note_drafts, hidden_note_drafts = _shown(owed.note_drafts, lambda n: note_url(n.pk))
    group_drafts, hidden_group_drafts = _shown(owed.group_drafts, lambda g: group_url(g.session_id))
    due, hidden_due = _shown(owed.due, note_or_session)
    plans_due, hidden_plans_due = _shown(owed.plans_due, lambda p: plan_url(p.patient.pk))
    plan_cosigns, hidden_plan_cosigns = _shown(
        owed.plan_cosigns, lambda v: version_url(v.pk), owed.plan_cosigns_total
    )
    note_cosigns, hidden_note_cosigns = _shown(
        owed.note_cosigns, lambda n: note_url(n.pk), owed.note_cosigns_total
    )
    group_cosigns, hidden_group_cosigns = _shown(
        owed.group_cosigns, lambda g: group_url(g.session_id), owed.group_cosigns_total
    )
    # Each co-signature's form posts to its own route, built here once per route rather
    # than with ``{% url %}`` once per item in the template.
    cosign_note = url_maker("records:note_cosign")
    cosign_plan = url_maker("records:plan_cosign")
    cosign_group = url_maker("records:group_cosign")
    hidden = {
        "drafts": hidden_plan_drafts + hidden_note_drafts + hidden_group_drafts,
        "due": hidden_due,
        "plans_due": hidden_plans_due,
        "cosigns": hidden_plan_cosigns + hidden_note_cosigns + hidden_group_cosigns,
    }
    return render(
        request,
        "records/queue/queue.html",
        {
            "form": form,
            "owed": owed,
            "clinician": clinician,
            "is_own": clinician.pk == user.pk,
            "choices": choices,
            "here": here,
            "plan_drafts": plan_drafts,
            "note_drafts": note_drafts,
            "group_drafts": group_drafts,
            "due": due,
            "plans_due": plans_due,
            "plan_cosigns": [(v, url, cosign_plan(v.pk)) for v, url in plan_cosigns],
            "note_cosigns": [(n, url, cosign_note(n.pk)) for n, url in note_cosigns],
            "group_cosigns": [(g, url, cosign_group(g.pk)) for g, url in group_cosigns],
            "hidden": hidden,
            "shown": QUEUE_SHOWN,
        },
    )


@staff_required(*CLINICIANS)
@require_POST
def note_cosign(request: StaffRequest, pk: int) -> HttpResponse:
    note = note_get_for_cosign(request.user, pk, request=request)
    back = safe_next_url(request, reverse("records:queue"))
    try:
        note_cosign_service(actor=request.user, note=note)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return redirect(back)
    messages.success(request, f"Note of {note.patient.display_name} co-signed.")
    return redirect(back)


@staff_required(*CLINICIANS)
@require_POST
def plan_cosign(request: StaffRequest, pk: int) -> HttpResponse:
    version = plan_version_get_for_cosign(request.user, pk, request=request)
    back = safe_next_url(request, reverse("records:queue"))
    try:
        record_cosign(actor=request.user, target=version)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return redirect(back)
    messages.success(
        request,
        f"Treatment plan v{version.number} of {version.plan.patient.display_name} co-signed.",
    )
    return redirect(back)


@staff_required(*CLINICIANS)
@require_POST
def group_cosign(request: StaffRequest, pk: int) -> HttpResponse:
    group = group_note_get_for_cosign(request.user, pk, request=request)
    back = safe_next_url(request, reverse("records:queue"))
    try:
        notes = group_note_cosign(actor=request.user, group_note=group)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return redirect(back)
    messages.success(
        request,
        f"Group note co-signed: {len(notes)} attendee note{'s' if len(notes) != 1 else ''}.",
    )
    return redirect(back)
