"""Progress notes: a patient's notes, a new note, the note with its signatures and addenda,
editing and signing a draft, and addenda to a signed note or plan version.

Who: clinicians (director, counselor, medical), through the chart's rule
(``patients.access``). Front desk and collectors do not read clinical notes (minimum
necessary: they schedule and collect, they do not treat): their role is refused (403)
before any note is fetched. A note of a patient outside the user's patients is a 404
with a denied audit row; every page that shows a note writes a "records.note.view" row.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse

from core import audit
from core.access import StaffRequest, staff_required
from core.clock import local_datetime, site_today
from core.formviews import ServiceFormView
from patients.access import patient_get_for_user
from patients.models import Patient

from ..forms.notes import AddendumForm, NoteEditForm, NoteSignForm, NoteStartForm
from ..models import FORMAT_SECTIONS, NoteKind, PlanVersion, ProgressNote, RecordSettings
from ..selectors.common import current_plan_version, objectives_for_notes
from ..selectors.notes import (
    addenda_of,
    new_note_links,
    note_get_for_user,
    note_objectives,
    note_signatures,
    notes_of_patient,
    plan_version_get_for_user,
    with_status,
)
from ..services._common import CLINICAL_ROLES
from ..services.notes import (
    DEFAULT_SERVICE,
    NOTE_KINDS,
    empty_sections,
    note_sign,
    note_start,
    note_update,
)
from ..services.signoff import addendum_add
from ._links import url_maker

# Who reads and writes notes: the same roles every records write requires.
CLINICIANS = CLINICAL_ROLES
NOTES_PER_PAGE = 25


def _audit_view(request: StaffRequest, note: ProgressNote, page: str) -> None:
    audit.record(
        action="records.note.view",
        request=request,
        patient_id=note.patient_id,
        site_id=note.site_id,
        obj=note,
        detail={"page": page},
    )


def plan_version_url(version: PlanVersion) -> str:
    """The version's page (records.views.plans); the addendum page itself until that
    area is routed."""
    try:
        return reverse("records:plan_version", args=[version.pk])
    except NoReverseMatch:
        return reverse("records:plan_addendum", args=[version.pk])


def _note_context(request: StaffRequest, note: ProgressNote, **extra: Any) -> dict[str, Any]:
    is_author = note.author_id == request.user.pk
    return {
        "note": with_status(note),
        "patient": note.patient,
        "sections": note.sections,
        "objectives": note_objectives(note),
        "signatures": note_signatures(note),
        "addenda": addenda_of(note),
        "add_addendum_url": (
            reverse("records:note_addendum", args=[note.pk]) if note.is_signed else ""
        ),
        "can_edit": is_author and not note.is_signed,
        "overdue": not note.is_signed and site_today(note.site) > note.due_on,
        **extra,
    }


def _read_only(
    request: StaffRequest, note: ProgressNote, message: str, status: int
) -> HttpResponse:
    """The note as it stands, with why the page asked for cannot change it."""
    _audit_view(request, note, "refused")
    messages.warning(request, message)
    return render(request, "records/notes/note.html", _note_context(request, note), status=status)


@staff_required(*CLINICIANS)
def patient_notes(request: StaffRequest, pk: int) -> HttpResponse:
    """The patient's notes, newest first, paged."""
    patient = patient_get_for_user(request.user, pk, request=request, action="records.notes.view")
    page = Paginator(notes_of_patient(patient), NOTES_PER_PAGE).get_page(request.GET.get("page"))
    note_url = url_maker("records:note")
    for note in page:
        with_status(note)
        note.url = note_url(note.pk)  # type: ignore[attr-defined]
    audit.record(
        action="records.notes.view",
        request=request,
        patient_id=patient.pk,
        site_id=patient.site_id,
        obj=patient,
        detail={"page": page.number},
    )
    version = current_plan_version(patient)
    return render(
        request,
        "records/notes/list.html",
        {
            "patient": patient,
            "page": page,
            "new_links": new_note_links(patient),
            "plan_version": version,
            "plan_addendum_url": (
                reverse("records:plan_addendum", args=[version.pk]) if version else ""
            ),
        },
    )


class NoteNewView(ServiceFormView):
    template_name = "records/notes/new.html"
    form_class = NoteStartForm
    error_status = 422
    patient: Patient

    def load(self, **kwargs: Any) -> HttpResponse | None:
        self.patient = patient_get_for_user(
            self.request.user, kwargs["pk"], request=self.request, action="records.note.new"
        )
        self.formats = RecordSettings.for_site(self.patient.site).allowed_formats
        wanted = self.request.GET.get("kind", "")
        self.kind = wanted if wanted in NoteKind.values and wanted in NOTE_KINDS else "individual"
        return None

    def get_initial(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "format": self.formats[0] if self.formats else "",
            "service_type": DEFAULT_SERVICE[NoteKind(self.kind)],
            "service_date": site_today(self.patient.site),
        }

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "formats": self.formats}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(patient=self.patient, **kwargs)

    def perform(self, form: NoteStartForm) -> Any:
        d = form.cleaned_data
        tz = self.patient.site.tz
        return note_start(
            actor=self.request.user,
            patient=self.patient,
            kind=d["kind"],
            format=d["format"],
            service_type=d["service_type"],
            service_date=d["service_date"],
            starts_at=local_datetime(d["service_date"], d["start"], tz),
            ends_at=local_datetime(d["service_date"], d["end"], tz),
        )

    def get_success_message(self) -> str:
        return "Note started as a draft: write it, then sign it."

    def get_success_url(self) -> str:
        return reverse("records:note_edit", args=[self.result.pk])


note_new = staff_required(*CLINICIANS)(NoteNewView.as_view())


@staff_required(*CLINICIANS)
def note_detail(request: StaffRequest, pk: int) -> HttpResponse:
    note = note_get_for_user(request.user, pk, request=request)
    _audit_view(request, note, "note")
    return render(request, "records/notes/note.html", _note_context(request, note))


class _DraftView(ServiceFormView):
    """A page that changes a draft: its author only, and never once it is signed (the
    page then shows the note read-only, and a post changes nothing)."""

    error_status = 422
    note: ProgressNote
    doing = "edits"

    def load(self, **kwargs: Any) -> HttpResponse | None:
        self.note = note_get_for_user(
            self.request.user, kwargs["pk"], request=self.request, action="records.note.view"
        )
        if self.note.is_signed:
            message = "This note is signed and can no longer be changed; add an addendum instead."
            return _read_only(self.request, self.note, message, self._refused_status())
        if self.note.kind == NoteKind.GROUP:
            message = "A group note is written and signed on its session's group-note page."
            return _read_only(self.request, self.note, message, self._refused_status())
        if self.note.author_id != self.request.user.pk:
            message = f"Only the author of a draft {self.doing} it."
            return _read_only(self.request, self.note, message, self._refused_status())
        _audit_view(self.request, self.note, self.doing)
        return None

    def _refused_status(self) -> int:
        # A refused post is a conflict with the note's state; a look is a normal page.
        return 409 if self.request.method == "POST" else 200

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(**_note_context(self.request, self.note), **kwargs)

    def get_success_url(self) -> str:
        return reverse("records:note", args=[self.note.pk])


class NoteEditView(_DraftView):
    template_name = "records/notes/edit.html"
    form_class = NoteEditForm
    success_message = "Draft saved."

    def get_initial(self) -> dict[str, Any]:
        note, tz = self.note, self.note.site.tz
        initial: dict[str, Any] = {
            "service_type": note.service_type,
            "service_date": note.service_date,
            "start": note.starts_at.astimezone(tz).time().replace(second=0, microsecond=0),
            "end": note.ends_at.astimezone(tz).time().replace(second=0, microsecond=0),
            "objectives": [o.pk for o in note_objectives(note)],
        }
        for name in FORMAT_SECTIONS[note.format]:
            initial[name] = getattr(note, name)
        return initial

    def get_form_kwargs(self) -> dict[str, Any]:
        return {
            **super().get_form_kwargs(),
            "format": self.note.format,
            "objectives": list(objectives_for_notes(self.note.patient)),
        }

    def perform(self, form: NoteEditForm) -> Any:
        d = form.cleaned_data
        tz = self.note.site.tz
        return note_update(
            actor=self.request.user,
            note=self.note,
            sections=form.sections(),
            objective_ids=d["objectives"],
            service_type=d["service_type"],
            service_date=d["service_date"],
            starts_at=local_datetime(d["service_date"], d["start"], tz),
            ends_at=local_datetime(d["service_date"], d["end"], tz),
        )

    def get_success_url(self) -> str:
        if self.request.POST.get("then") == "sign":
            return reverse("records:note_sign", args=[self.note.pk])
        return super().get_success_url()


note_edit = staff_required(*CLINICIANS)(NoteEditView.as_view())


class NoteSignView(_DraftView):
    template_name = "records/notes/sign.html"
    form_class = NoteSignForm
    doing = "signs"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(missing=empty_sections(self.note), **kwargs)

    def perform(self, form: NoteSignForm) -> Any:
        return note_sign(actor=self.request.user, note=self.note)

    def get_success_message(self) -> str:
        note: ProgressNote = self.result
        if note.is_late:
            return "Note signed. It was signed after its due day, so it is marked late entry."
        return "Note signed."


note_sign_view = staff_required(*CLINICIANS)(NoteSignView.as_view())


class _AddendumView(ServiceFormView):
    template_name = "records/notes/addendum.html"
    form_class = AddendumForm
    error_status = 422
    success_message = "Addendum added beside the original."
    target: ProgressNote | PlanVersion

    def perform(self, form: AddendumForm) -> Any:
        d = form.cleaned_data
        return addendum_add(
            actor=self.request.user,
            target=self.target,
            kind=d["kind"],
            text=d["text"],
            reason=d["reason"],
        )


class NoteAddendumView(_AddendumView):
    def load(self, **kwargs: Any) -> HttpResponse | None:
        self.target = note = note_get_for_user(
            self.request.user, kwargs["pk"], request=self.request, action="records.note.view"
        )
        _audit_view(self.request, note, "addendum")
        return None

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        assert isinstance(self.target, ProgressNote)
        return super().get_context_data(
            **_note_context(self.request, self.target), target_kind="note", **kwargs
        )

    def get_success_url(self) -> str:
        return reverse("records:note", args=[self.target.pk])


note_addendum = staff_required(*CLINICIANS)(NoteAddendumView.as_view())


class PlanAddendumView(_AddendumView):
    def load(self, **kwargs: Any) -> HttpResponse | None:
        self.target = version = plan_version_get_for_user(
            self.request.user, kwargs["pk"], request=self.request
        )
        audit.record(
            action="records.plan.view",
            request=self.request,
            patient_id=version.plan.patient_id,
            site_id=version.plan.enrollment.site_id,
            obj=version,
            detail={"page": "addendum"},
        )
        return None

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        assert isinstance(self.target, PlanVersion)
        version = self.target
        return super().get_context_data(
            version=version,
            patient=version.plan.patient,
            addenda=addenda_of(version),
            target_kind="plan",
            back_url=plan_version_url(version),
            **kwargs,
        )

    def get_success_url(self) -> str:
        assert isinstance(self.target, PlanVersion)
        return plan_version_url(self.target)


plan_addendum = staff_required(*CLINICIANS)(PlanAddendumView.as_view())
