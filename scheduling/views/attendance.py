"""The attendance sheet of a session, and the changes made from it (cancel, move)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms.utils import pretty_name
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from core import audit, limits
from core.access import StaffRequest, staff_required
from core.clock import local_datetime, site_today
from core.forms import counter_html
from core.formviews import ServiceFormView
from core.links import url_maker
from core.models import Role
from core.panels import collect
from patients.models import Patient

from ..forms import (
    AttendanceForm,
    CancelForm,
    MakeUpForm,
    MoveForm,
    ReasonForm,
)
from ..models import Attendance, Session, SessionStatus, SiteSchedule
from ..selectors.access import session_get_for_user
from ..selectors.rosters import make_up_allowed, make_up_candidates, rosters_for_sessions
from ..selectors.sessions import attendance_credited_minutes, attendance_row, attendance_taken
from ..services.attendance import (
    attendance_add_guest,
    attendance_mark_all_present,
    attendance_record,
)
from ..services.bookings import session_cancel as session_cancel_service  # a view has its name
from ..services.bookings import session_move as session_move_service  # a view has its name

D, C, M, F = Role.DIRECTOR, Role.COUNSELOR, Role.MEDICAL, Role.FRONT_DESK
# What an unbound attendance row's inputs take from AttendanceForm (the row template
# writes them without building the form).
ROW_CONSTANTS = {
    "status_choices": AttendanceForm.base_fields["status"].choices,  # type: ignore[attr-defined]
    "labels": {
        name: field.label or pretty_name(name) for name, field in AttendanceForm.base_fields.items()
    },
    "note_limit": limits.NOTE,
    "reason_limit": limits.SHORT_REASON,
}


def _needs_reason(session: Session, now: datetime) -> bool:
    rules = SiteSchedule.for_site(session.site)
    return (site_today(session.site, now) - session.local_date).days > rules.attendance_edit_days


def _time_value(value: datetime | None, tz: ZoneInfo) -> str:
    # As forms.TimeInput writes an initial time (its first input format, with seconds).
    return value.astimezone(tz).strftime("%H:%M:%S") if value else ""


def _sheet(
    session: Session,
    roster: list[Patient],
    rows: Mapping[int, Attendance | None],
    bound: tuple[int, AttendanceForm] | None = None,
) -> list[dict[str, Any]]:
    """One entry per roster patient: the patient, the attendance row, and either the
    values its row's inputs start from (``fields``: the row template writes the inputs as
    AttendanceForm's widgets would; building a form and rendering its widgets per row
    was most of a long roster's page) or, for the one row posted with errors, its bound
    form, rendered by its widgets."""
    tz = session.site.tz
    # One reversal for the roster: a roster of 30 reversed it twice a row in the template.
    mark_url = url_maker("scheduling:attendance_mark", session.pk)
    entries = []
    for p in roster:
        row = rows.get(p.pk)
        form: AttendanceForm | None = None
        fields: dict[str, str] | None = None
        if bound is not None and bound[0] == p.pk:
            form = bound[1]
        else:
            note = row.note if row else ""
            fields = {
                "status": row.status if row else "",
                "arrived": _time_value(row.arrived_at, tz) if row else "",
                "left": _time_value(row.left_at, tz) if row else "",
                "note": note,
                # As the note's CountedTextarea writes it (filled in near the limit).
                "note_counter": counter_html(f"id_p{p.pk}-note", limits.NOTE, len(note)),
            }
        entries.append(
            {
                "patient": p,
                "row": row,
                "form": form,
                "fields": fields,
                "prefix": f"p{p.pk}",
                "mark_url": mark_url(p.pk),
            }
        )
    return entries


def _attendance_context(
    request: StaffRequest,
    session: Session,
    *,
    bound: tuple[int, AttendanceForm] | None = None,
    makeup_form: MakeUpForm | None = None,
) -> dict[str, Any]:
    now = timezone.now()
    needs_reason = _needs_reason(session, now)
    taken = attendance_taken(session)
    roster = rosters_for_sessions([session], attendance=taken)[session.pk]
    rows = {a.patient_id: a for a in taken}
    entries = _sheet(session, roster, rows, bound=bound)
    candidates = make_up_candidates(request.user, session, [p.pk for p in roster])
    return {
        "session": session,
        "entries": entries,
        "marked": len(rows),
        "attended_minutes": sum(r.minutes_credited for r in rows.values()),
        "needs_reason": needs_reason,
        "is_open": session.status == SessionStatus.SCHEDULED
        and now >= session.starts_at - timedelta(minutes=15),
        "not_started": now < session.starts_at - timedelta(minutes=15),
        # What the apps above add to the sheet (the clinical record's group note and
        # sign-in sheet): registered on the "attendance" hook, scheduling names none.
        "panels": collect("attendance", request, session=session),
        "makeup_form": makeup_form or MakeUpForm(patients=candidates, needs_reason=needs_reason),
        "show_makeup": session.track_id is not None,
        "over_capacity": len(roster) > session.capacity,
        "can_manage": request.user.role in (D, C, F),
        **ROW_CONSTANTS,
    }


@staff_required(D, C, M, F)
def attendance(request: StaffRequest, pk: int) -> HttpResponse:
    session = session_get_for_user(request.user, pk)
    audit.record(
        action="session.attendance_view",
        request=request,
        site_id=session.site_id,
        patient_id=session.patient_id,
        obj=session,
    )
    return render(request, "scheduling/attendance.html", _attendance_context(request, session))


@require_POST
@staff_required(D, C, M, F)
def attendance_mark(request: StaffRequest, pk: int, patient_pk: int) -> HttpResponse:
    """Mark one attendee. htmx swaps the row; a plain form post redirects back."""
    session = session_get_for_user(request.user, pk)
    roster = rosters_for_sessions([session])[session.pk]
    patient = next((p for p in roster if p.pk == patient_pk), None)
    if patient is None:
        raise Http404("Not on this roster.")
    now = timezone.now()
    needs_reason = _needs_reason(session, now)
    form = AttendanceForm(
        request.POST, prefix=f"p{patient.pk}", session=session, needs_reason=needs_reason
    )
    if form.is_valid():
        try:
            attendance_record(
                actor=request.user,
                session=session,
                patient=patient,
                status=form.cleaned_data["status"],
                arrived_at=form.cleaned_data["arrived_at"],
                left_at=form.cleaned_data["left_at"],
                note=form.cleaned_data["note"],
                reason=form.cleaned_data["reason"],
                now=now,
            )
        except ValidationError as exc:
            form.apply_errors(exc)
    ok = not form.errors
    if request.htmx:
        row = attendance_row(session, patient)
        bound = None if ok else (patient.pk, form)
        entry = _sheet(session, [patient], {patient.pk: row}, bound=bound)[0]
        entry["saved"] = ok
        taken = attendance_credited_minutes(session)
        return render(
            request,
            "scheduling/_attendance_row.html",
            {
                "session": session,
                "entry": entry,
                "is_open": True,
                **ROW_CONSTANTS,
                "needs_reason": needs_reason,
                "oob_progress": {
                    "marked": len(taken),
                    "total": len(roster),
                    "minutes": sum(taken),
                },
            },
        )  # 200 even with errors: htmx swaps only 2xx responses by default
    if ok:
        messages.success(request, f"Attendance saved for {patient.display_name}.")
        return redirect(reverse("scheduling:attendance", args=[session.pk]) + f"#p{patient.pk}")
    context = _attendance_context(request, session, bound=(patient.pk, form))
    return render(request, "scheduling/attendance.html", context, status=422)


@require_POST
@staff_required(D, C, M, F)
def attendance_all_present(request: StaffRequest, pk: int) -> HttpResponse:
    session = session_get_for_user(request.user, pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        for error in form.errors["reason"].get_json_data():
            messages.error(request, error["message"])
        return redirect("scheduling:attendance", pk=session.pk)
    try:
        n = attendance_mark_all_present(
            actor=request.user, session=session, reason=form.cleaned_data["reason"]
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, f"{n} marked present.")
    return redirect("scheduling:attendance", pk=session.pk)


@require_POST
@staff_required(D, C, M, F)
def attendance_make_up(request: StaffRequest, pk: int) -> HttpResponse:
    session = session_get_for_user(request.user, pk)
    now = timezone.now()
    form = MakeUpForm(
        request.POST,
        patients=make_up_allowed(request.user, session),
        needs_reason=_needs_reason(session, now),
    )
    if form.is_valid():
        try:
            attendance_add_guest(
                actor=request.user,
                session=session,
                patient=form.cleaned_data["patient"],
                reason=form.cleaned_data["reason"],
                now=now,
            )
        except ValidationError as exc:
            form.apply_errors(exc)
        else:
            messages.success(request, "Make-up attendee added as present.")
            return redirect("scheduling:attendance", pk=session.pk)
    context = _attendance_context(request, session, makeup_form=form)
    return render(request, "scheduling/attendance.html", context, status=422)


def _attendance_url(session: Session) -> str:
    return reverse("scheduling:attendance", kwargs={"pk": session.pk})


class SessionFormView(ServiceFormView):
    """A change to one session the user may see; back to its attendance sheet after."""

    template_name = "scheduling/session_form.html"
    error_status = 422
    heading = ""
    session: Session

    def load(self, **kwargs: Any) -> HttpResponse | None:
        self.session = session_get_for_user(self.request.user, kwargs["pk"])
        return None

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(session=self.session, heading=self.heading, **kwargs)

    def get_success_url(self) -> str:
        return _attendance_url(self.session)


class SessionCancelView(SessionFormView):
    form_class = CancelForm
    heading = "Cancel session"
    success_message = "Session cancelled; it will not count as an absence."

    def perform(self, form: CancelForm) -> Any:
        return session_cancel_service(
            actor=self.request.user, session=self.session, reason=form.cleaned_data["reason"]
        )


session_cancel = staff_required(D, C, F)(SessionCancelView.as_view())


class SessionMoveView(SessionFormView):
    form_class = MoveForm
    heading = "Move this session"
    success_message = "Session moved; the series is unchanged."

    def get_initial(self) -> dict[str, Any]:
        tz = self.session.site.tz
        return {
            "day": self.session.local_date,
            "start": self.session.starts_at.astimezone(tz).time(),
            "end": self.session.ends_at.astimezone(tz).time(),
            "room": self.session.room,
        }

    def perform(self, form: MoveForm) -> Any:
        d = form.cleaned_data
        tz = self.session.site.tz
        return session_move_service(
            actor=self.request.user,
            session=self.session,
            starts_at=local_datetime(d["day"], d["start"], tz),
            ends_at=local_datetime(d["day"], d["end"], tz),
            room=d["room"],
        )


session_move = staff_required(D, C, F)(SessionMoveView.as_view())
