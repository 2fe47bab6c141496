"""The group-note screen of a group session (draft, sign, then read-only with a link to
each attendee's note) and its printable sign-in sheet. Reached from the session's
attendance sheet (``panels.groups``, on scheduling's "attendance" hook)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from core import audit, clock
from core.access import StaffRequest, staff_required
from core.formviews import ServiceFormView
from core.models import Role
from scheduling.models import Session, SessionStatus

from ..forms.groups import GroupNoteForm, entry_field_name
from ..models import GroupNote
from ..selectors.groups import (
    AttendeeRow,
    attendee_rows,
    group_note_for,
    group_session_get_for_user,
    signin_roster,
)
from ..services.groups import default_service_type, group_note_save, group_note_sign
from ._links import url_maker

D, C, M, F = Role.DIRECTOR, Role.COUNSELOR, Role.MEDICAL, Role.FRONT_DESK


class GroupNoteView(ServiceFormView):
    """GET: the screen (an audited view: it shows what attendees said and did);
    POST: save the draft."""

    template_name = "records/groups/group_note.html"
    form_class = GroupNoteForm
    error_status = 422
    success_message = "Group note saved as a draft."
    session: Session
    group: GroupNote | None
    rows: list[AttendeeRow]

    def load(self, **kwargs: Any) -> HttpResponse | None:
        self.session = group_session_get_for_user(
            self.request.user, kwargs["pk"], request=self.request, with_note=True
        )
        self.group = group_note_for(self.session)
        self.rows = attendee_rows(self.session, self.group)
        return None

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        audit.record(
            action="records.group_note.view",
            request=request,
            site_id=self.session.site_id,
            obj=self.group or self.session,
            detail={"session": self.session.pk, "attendees": len(self.rows)},
        )
        return super().get(request, *args, **kwargs)

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["attendees"] = [
            (r.patient.pk, r.patient.display_name) for r in self.rows if r.attended
        ]
        return kwargs

    def get_initial(self) -> dict[str, Any]:
        group = self.group
        initial: dict[str, Any] = {
            "topic": group.topic if group else self.session.topic,
            "service_type": group.service_type if group else default_service_type(self.session),
            "shared_text": group.shared_text if group else "",
        }
        for row in self.rows:
            if row.attended:
                initial[entry_field_name(row.patient.pk)] = row.text
        return initial

    def perform(self, form: GroupNoteForm) -> GroupNote:
        data = form.cleaned_data
        return group_note_save(
            actor=self.request.user,
            session=self.session,
            topic=data["topic"],
            service_type=data["service_type"],
            shared_text=data["shared_text"],
            entries=form.entries(),
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form = context["form"]
        now = clock.now()
        session, group, user = self.session, self.group, self.request.user
        present = [r for r in self.rows if r.attended]
        # One reverse per route, not per attendee.
        note_link = url_maker("records:note")
        addendum_link = url_maker("records:note_addendum")
        context.update(
            session=session,
            group=group,
            rows=[
                {
                    "row": r,
                    "field": form[entry_field_name(r.patient.pk)]
                    if r.attended and not (group and group.is_signed)
                    else None,
                    "note_url": (note_link(r.note.pk) or None) if r.note else None,
                    "addendum_url": (addendum_link(r.note.pk) or None) if r.note else None,
                }
                for r in self.rows
            ],
            present_count=len(present),
            signed=group is not None and group.is_signed,
            held=session.status == SessionStatus.SCHEDULED and session.starts_at <= now,
            cancelled=session.status != SessionStatus.SCHEDULED,
            can_sign=group is not None
            and not group.is_signed
            and group.author_id in (None, user.pk)
            and bool(present),
        )
        return context

    def get_success_url(self) -> str:
        return reverse("records:group_note", args=[self.session.pk])


group_note = staff_required(D, C, M)(GroupNoteView.as_view())


@require_POST
@staff_required(D, C, M)
def group_sign(request: StaffRequest, pk: int) -> HttpResponseBase:
    session = group_session_get_for_user(request.user, pk, request=request)
    try:
        group = group_note_sign(actor=request.user, session=session)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        count = group.attendee_notes.count()
        messages.success(
            request, f"Group note signed: a locked note is in {count} chart{'s' * (count != 1)}."
        )
    return redirect("records:group_note", pk=session.pk)


@require_GET
@staff_required(D, C, M, F)
def signin_sheet(request: StaffRequest, pk: int) -> HttpResponse:
    session = group_session_get_for_user(request.user, pk, request=request)
    roster = signin_roster(session)
    # The sheet lists the patients of a treatment group: a look at patient data.
    audit.record(
        action="records.signin_sheet.view",
        request=request,
        site_id=session.site_id,
        obj=session,
        detail={"patients": len(roster)},
    )
    group = group_note_for(session)
    return render(
        request,
        "records/groups/signin_sheet.html",
        {
            "session": session,
            "roster": roster,
            "topic": (group.topic if group and group.topic else session.topic) or session.title,
        },
    )
