"""Staff and portal screens for scheduling. Thin: the reads are in ``selectors``, the
writes in ``services``; the form pages are ``ServiceFormView`` subclasses."""

from __future__ import annotations

import csv
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from core import audit
from core.access import patient_required, staff_required
from core.clock import local_datetime, parse_week, site_today
from core.formats import format_day
from core.formviews import ServiceFormView
from core.models import Role, Site
from patients.access import patient_get_for_user, patients_visible_to
from patients.models import Patient

from . import ical, services
from .forms import (
    AttendanceForm,
    BookingForm,
    CancelForm,
    GroupNoteForm,
    HolidayForm,
    MakeUpForm,
    MoveForm,
    SeriesForm,
)
from .models import Session, SessionSeries, SessionStatus, SiteSchedule, Track
from .selectors import (
    active_tracks,
    attendance_credited_minutes,
    attendance_marked_counts,
    attendance_row,
    attendance_taken,
    billing_days,
    calendar_feed_active,
    calendar_feed_for_token,
    compliance_patients,
    facilitator_sessions_today,
    holiday_of_site,
    holiday_years,
    holidays_in_year,
    make_up_allowed,
    make_up_candidates,
    patient_sessions,
    rosters_for_sessions,
    series_get_for_user,
    session_get_for_user,
    sessions_between,
    site_choices,
    track_current_series,
    track_get_for_user,
    track_roster_count,
    weekly_hours,
)

D, C, M, F = Role.DIRECTOR, Role.COUNSELOR, Role.MEDICAL, Role.FRONT_DESK


def _pick_site(request: HttpRequest) -> tuple[Site, list[Site]]:
    sites = site_choices(request.user)
    if not sites:
        raise Http404("No site.")
    wanted = request.GET.get("site")
    if wanted:
        chosen = next((s for s in sites if str(s.pk) == wanted), None)
        if chosen is None:
            raise Http404("No such site.")
        return chosen, sites
    return sites[0], sites


# --- staff: calendar and my sessions ---------------------------------------


@staff_required(D, C, M, F)
def calendar(request: HttpRequest) -> HttpResponse:
    """Week calendar of a site, or of one track (``?track=``)."""
    track = None
    if request.GET.get("track", "").isdigit():
        track = track_get_for_user(request.user, int(request.GET["track"]))
        site, sites = track.site, site_choices(request.user)
    else:
        site, sites = _pick_site(request)
    monday = parse_week(request.GET.get("week"), site_today(site))
    sunday = monday + timedelta(days=6)
    sessions = list(sessions_between([site], monday, sunday, track=track))
    rosters = rosters_for_sessions(sessions)
    marked = attendance_marked_counts(sessions)
    days = []
    for i in range(7):
        day = monday + timedelta(days=i)
        entries = [
            {"session": s, "roster": len(rosters[s.pk]), "marked": marked.get(s.pk, 0)}
            for s in sessions
            if s.local_date == day
        ]
        days.append({"date": day, "entries": entries})
    tracks = active_tracks(site)
    return render(
        request,
        "scheduling/calendar.html",
        {
            "site": site,
            "sites": sites,
            "track": track,
            "tracks": tracks,
            "monday": monday,
            "sunday": sunday,
            "prev_week": monday - timedelta(days=7),
            "next_week": monday + timedelta(days=7),
            "days": days,
            "today": site_today(site),
        },
    )


@staff_required(D, C, M)
def my_sessions(request: HttpRequest) -> HttpResponse:
    """The facilitator's sessions today (each site's own today)."""
    now = timezone.now()
    sessions = facilitator_sessions_today(request.user, now)
    rosters = rosters_for_sessions(sessions)
    marked = attendance_marked_counts(sessions)
    entries = [
        {"session": s, "roster": len(rosters[s.pk]), "marked": marked.get(s.pk, 0)}
        for s in sessions
    ]
    return render(request, "scheduling/my_sessions.html", {"entries": entries, "now": now})


# --- staff: attendance ------------------------------------------------------


def _needs_reason(session, now) -> bool:
    rules = SiteSchedule.for_site(session.site)
    return (site_today(session.site, now) - session.local_date).days > rules.attendance_edit_days


def _sheet(session, roster, rows, needs_reason, data_for=None, bound=None):
    """One entry per roster patient: the patient, the attendance row and its form."""
    entries = []
    for p in roster:
        row = rows.get(p.pk)
        if bound is not None and bound[0] == p.pk:
            form = bound[1]
        else:
            initial = {}
            if row is not None:
                tz = session.site.tz
                initial = {
                    "status": row.status,
                    "arrived": row.arrived_at.astimezone(tz).time() if row.arrived_at else None,
                    "left": row.left_at.astimezone(tz).time() if row.left_at else None,
                    "note": row.note,
                }
            form = AttendanceForm(
                prefix=f"p{p.pk}", initial=initial, session=session, needs_reason=needs_reason
            )
        entries.append({"patient": p, "row": row, "form": form})
    return entries


def _attendance_context(request, session, *, bound=None, makeup_form=None, note_form=None):
    now = timezone.now()
    needs_reason = _needs_reason(session, now)
    taken = attendance_taken(session)
    roster = rosters_for_sessions([session], attendance=taken)[session.pk]
    rows = {a.patient_id: a for a in taken}
    entries = _sheet(session, roster, rows, needs_reason, bound=bound)
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
        "note_form": note_form or GroupNoteForm(initial={"group_note": session.group_note}),
        "makeup_form": makeup_form or MakeUpForm(patients=candidates, needs_reason=needs_reason),
        "show_makeup": session.track_id is not None,
        "over_capacity": len(roster) > session.capacity,
        "can_manage": request.user.role in (D, C, F),
    }


@staff_required(D, C, M, F)
def attendance(request: HttpRequest, pk: int) -> HttpResponse:
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
def attendance_mark(request: HttpRequest, pk: int, patient_pk: int) -> HttpResponse:
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
            services.attendance_record(
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
        if ok:
            form = _sheet(session, [patient], {patient.pk: row}, needs_reason)[0]["form"]
        entry = {"patient": patient, "row": row, "form": form, "saved": ok}
        taken = attendance_credited_minutes(session)
        return render(
            request,
            "scheduling/_attendance_row.html",
            {
                "session": session,
                "entry": entry,
                "is_open": True,
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
def attendance_all_present(request: HttpRequest, pk: int) -> HttpResponse:
    session = session_get_for_user(request.user, pk)
    try:
        n = services.attendance_mark_all_present(
            actor=request.user, session=session, reason=request.POST.get("reason", "")
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, f"{n} marked present.")
    return redirect("scheduling:attendance", pk=session.pk)


@require_POST
@staff_required(D, C, M, F)
def session_note(request: HttpRequest, pk: int) -> HttpResponse:
    session = session_get_for_user(request.user, pk)
    form = GroupNoteForm(request.POST)
    if form.is_valid():
        services.session_note_save(
            actor=request.user, session=session, group_note=form.cleaned_data["group_note"]
        )
        messages.success(request, "Group note saved.")
    return redirect("scheduling:attendance", pk=session.pk)


@require_POST
@staff_required(D, C, M, F)
def attendance_make_up(request: HttpRequest, pk: int) -> HttpResponse:
    session = session_get_for_user(request.user, pk)
    now = timezone.now()
    form = MakeUpForm(
        request.POST,
        patients=make_up_allowed(request.user, session),
        needs_reason=_needs_reason(session, now),
    )
    if form.is_valid():
        try:
            services.attendance_add_guest(
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
        return services.session_cancel(
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
        return services.session_move(
            actor=self.request.user,
            session=self.session,
            starts_at=local_datetime(d["day"], d["start"], tz),
            ends_at=local_datetime(d["day"], d["end"], tz),
            room=d["room"],
        )


session_move = staff_required(D, C, F)(SessionMoveView.as_view())


# --- staff: tracks and series ----------------------------------------------


@staff_required(D, C, M, F)
def track_detail(request: HttpRequest, pk: int) -> HttpResponse:
    track = track_get_for_user(request.user, pk)
    today = site_today(track.site)
    return render(
        request,
        "scheduling/track.html",
        {
            "track": track,
            "series": track_current_series(track, today),
            "on_roster": track_roster_count(track, today),
            "can_edit": request.user.role in (D, C),
        },
    )


class SeriesFormView(ServiceFormView):
    """A weekly series of a track the user may see; back to the track after."""

    template_name = "scheduling/series_form.html"
    form_class = SeriesForm
    error_status = 422
    track: Track

    def get_heading(self) -> str:
        raise NotImplementedError

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(track=self.track, heading=self.get_heading(), **kwargs)

    def get_success_url(self) -> str:
        return reverse("scheduling:track", kwargs={"pk": self.track.pk})


class SeriesCreateView(SeriesFormView):
    success_message = "Series saved and sessions scheduled."

    def load(self, **kwargs: Any) -> HttpResponse | None:
        self.track = track_get_for_user(self.request.user, kwargs["pk"])
        return None

    def get_heading(self) -> str:
        return "New weekly series"

    def get_initial(self) -> dict[str, Any]:
        return {"starts_on": site_today(self.track.site), "room": self.track.room}

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "site": self.track.site}

    def perform(self, form: SeriesForm) -> Any:
        return services.series_create(
            actor=self.request.user,
            track=self.track,
            starts_on=form.cleaned_data["starts_on"],
            **form.schedule_kwargs(),
        )


series_create = staff_required(D, C)(SeriesCreateView.as_view())


class SeriesEditView(SeriesFormView):
    success_message = "Series changed from that date on; past sessions kept."
    series: SessionSeries

    def load(self, **kwargs: Any) -> HttpResponse | None:
        self.series, self.track = series_get_for_user(self.request.user, kwargs["pk"])
        return None

    def get_heading(self) -> str:
        return f"Change {self.series}"

    def get_initial(self) -> dict[str, Any]:
        series = self.series
        return {
            "kind": series.kind,
            "topic": series.topic,
            "weekdays": series.weekday_codes,
            "start_time": series.start_time,
            "end_time": series.end_time,
            "starts_on": max(site_today(self.track.site), series.starts_on),
            "ends_on": series.ends_on,
            "facilitator": series.facilitator_id,
            "room": series.room,
        }

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "site": self.track.site, "editing": True}

    def perform(self, form: SeriesForm) -> Any:
        return services.series_update(
            actor=self.request.user,
            series=self.series,
            effective_date=form.cleaned_data["starts_on"],
            **form.schedule_kwargs(),
        )


series_edit = staff_required(D, C)(SeriesEditView.as_view())


class BookIndividualView(ServiceFormView):
    template_name = "scheduling/book.html"
    form_class = BookingForm
    error_status = 422
    success_message = "Session booked."
    patient: Patient

    def load(self, **kwargs: Any) -> HttpResponse | None:
        self.patient = patient_get_for_user(
            self.request.user, kwargs["patient_pk"], request=self.request, action="session.book"
        )
        return None

    def get_initial(self) -> dict[str, Any]:
        return {"facilitator": self.request.user.pk}

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "site": self.patient.site}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(patient=self.patient, **kwargs)

    def perform(self, form: BookingForm) -> Any:
        d = form.cleaned_data
        tz = self.patient.site.tz
        return services.individual_session_book(
            actor=self.request.user,
            patient=self.patient,
            kind=d["kind"],
            starts_at=local_datetime(d["day"], d["start"], tz),
            ends_at=local_datetime(d["day"], d["end"], tz),
            facilitator=d["facilitator"],
            room=d["room"],
            video_link=d["video_link"],
            topic=d["topic"],
        )

    def get_success_url(self) -> str:
        return _attendance_url(self.result)


book_individual = staff_required(D, C, M, F)(BookIndividualView.as_view())


# --- staff: compliance and billing -----------------------------------------


@staff_required(D, C)
def compliance(request: HttpRequest) -> HttpResponse:
    """Weekly hours of the user's visible patients with an open enrollment at one site."""
    site, sites = _pick_site(request)
    monday = parse_week(request.GET.get("week"), site_today(site))
    # A counselor starts from their own caseload (everyone they may see is one click
    # away): the page then stays the size of a caseload, not of the site.
    scope = request.GET.get("scope") or ("mine" if request.user.role == Role.COUNSELOR else "all")
    patients = compliance_patients(
        request.user, site, counselor=request.user if scope == "mine" else None
    )
    rows = weekly_hours(patients, monday)
    audit.record(action="scheduling.compliance_view", request=request, site_id=site.pk)
    counts = {}
    for r in rows:
        counts[r.status_label] = counts.get(r.status_label, 0) + 1
    return render(
        request,
        "scheduling/compliance.html",
        {
            "site": site,
            "sites": sites,
            "monday": monday,
            "sunday": monday + timedelta(days=6),
            "prev_week": monday - timedelta(days=7),
            "next_week": monday + timedelta(days=7),
            "day_list": [monday + timedelta(days=i) for i in range(7)],
            "rows": rows,
            "counts": sorted(counts.items()),
            "scope": scope,
        },
    )


@staff_required(D, C, F)
def billing(request: HttpRequest) -> HttpResponse:
    """Billing days of a week: attended minutes per patient-day, and the 3-hour IOP day."""
    site, sites = _pick_site(request)
    monday = parse_week(request.GET.get("week"), site_today(site))
    sunday = monday + timedelta(days=6)
    days = billing_days(patients_visible_to(request.user), site, monday, sunday)
    audit.record(
        action="scheduling.billing_export"
        if request.GET.get("format") == "csv"
        else "scheduling.billing_view",
        request=request,
        site_id=site.pk,
    )
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv")
        response["Content-Disposition"] = (
            f'attachment; filename="billing-days-{site.code}-{monday.isoformat()}.csv"'
        )
        writer = csv.writer(response)
        writer.writerow(["date", "mrn", "patient", "sessions", "attended_minutes", "meets_iop_day"])
        for d in days:
            writer.writerow(
                [
                    d.day.isoformat(),
                    d.patient.mrn,
                    d.patient.display_name,
                    d.sessions,
                    d.minutes,
                    "yes" if d.meets_iop_day else "no",
                ]
            )
        return response
    return render(
        request,
        "scheduling/billing.html",
        {
            "site": site,
            "sites": sites,
            "monday": monday,
            "sunday": sunday,
            "prev_week": monday - timedelta(days=7),
            "next_week": monday + timedelta(days=7),
            "days": days,
            "billable": sum(1 for d in days if d.meets_iop_day),
        },
    )


# --- director: holidays ------------------------------------------------------


def _holidays_url(site, year: int | None = None) -> str:
    url = f"{reverse('scheduling:holidays')}?site={site.pk}"
    return f"{url}&year={year}" if year else url


class HolidaysView(ServiceFormView):
    """The site's holiday calendar by year; the director adds a day here."""

    template_name = "scheduling/holidays.html"
    form_class = HolidayForm
    error_status = 422
    site: Site
    sites: list[Site]

    def load(self, **kwargs: Any) -> HttpResponse | None:
        self.site, self.sites = _pick_site(self.request)
        self.first, self.last = services.holiday_bounds(self.site)
        self.today = site_today(self.site)
        wanted = self.request.GET.get("year", "")
        valid = wanted.isdigit() and 1900 <= int(wanted) <= 2199
        self.year = int(wanted) if valid else self.today.year
        return None

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "first": self.first, "last": self.last}

    def perform(self, form: HolidayForm) -> Any:
        return services.holiday_add(
            actor=self.request.user,
            site=self.site,
            day=form.cleaned_data["date"],
            name=form.cleaned_data["name"],
        )

    def get_success_message(self) -> str:
        holiday = self.result
        return (
            f"{holiday.name} added: {self.site.name} is closed on {format_day(holiday.date)}; "
            "that day's sessions are cancelled and their patients told."
        )

    def get_success_url(self) -> str:
        return _holidays_url(self.site, self.result.date.year)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            site=self.site,
            sites=self.sites,
            year=self.year,
            years=holiday_years(self.site, self.year),
            days=holidays_in_year(self.site, self.year),
            first=self.first,
            today=self.today,
            **kwargs,
        )


holidays = staff_required(D)(HolidaysView.as_view())


@require_POST
@staff_required(D)
def holiday_change(request: HttpRequest) -> HttpResponse:
    """Remove (open the site) or restore one holiday of a site the director runs."""
    site, _ = _pick_site(request)
    wanted = request.POST.get("holiday", "")
    holiday = holiday_of_site(site, int(wanted)) if wanted.isdigit() else None
    if holiday is None:
        raise Http404("No such holiday.")
    action = request.POST.get("action")
    change = {"remove": services.holiday_remove, "restore": services.holiday_restore}.get(action)
    if change is None:
        raise Http404("No such change.")
    try:
        change(actor=request.user, holiday=holiday)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        if action == "remove":
            messages.success(
                request,
                f"{holiday.name} removed: {site.name} is open that day. Sessions already "
                "cancelled for it stay cancelled.",
            )
        else:
            messages.success(
                request, f"{holiday.name} restored; that day's sessions are cancelled."
            )
    return redirect(_holidays_url(site, holiday.date.year))


# --- portal ----------------------------------------------------------------

PORTAL_DAYS = 14


@patient_required
def portal_schedule(request: HttpRequest) -> HttpResponse:
    """The patient's next 14 days, in their site's local time, cancellations shown."""
    patient = request.patient
    today = site_today(patient.site)
    sessions = patient_sessions(patient, today, today + timedelta(days=PORTAL_DAYS - 1))
    now = timezone.now()
    sessions = [s for s in sessions if s.ends_at > now]
    feed = calendar_feed_active(patient)
    feed_url = (
        request.build_absolute_uri(reverse("scheduling:ical_feed", args=[feed.token]))
        if feed
        else None
    )
    return render(
        request,
        "scheduling/portal_schedule.html",
        {
            "patient": patient,
            "sessions": sessions,
            "tz": patient.site.tz,
            "feed_url": feed_url,
            "days": PORTAL_DAYS,
        },
    )


@require_POST
@patient_required
def portal_feed(request: HttpRequest) -> HttpResponse:
    """Create, regenerate or revoke the patient's personal calendar URL."""
    if request.POST.get("action") == "revoke":
        services.calendar_feed_revoke(patient=request.patient)
        messages.success(request, "Calendar link turned off. The old link no longer works.")
    else:
        services.calendar_feed_issue(patient=request.patient)
        messages.success(request, "New calendar link created. Any earlier link stopped working.")
    return redirect("scheduling:portal_schedule")


# Calendar apps fetch the feed without a browser session, so it cannot require a login.
# The unguessable, revocable token in the URL is the credential; the feed shows only
# session times and neutral titles (no diagnosis, no program name).
@login_not_required
@never_cache
@require_GET
def ical_feed(request: HttpRequest, token: str) -> HttpResponse:
    feed = calendar_feed_for_token(token)
    if feed is None or feed.patient.is_archived:
        raise Http404("No such calendar.")
    body = ical.patient_calendar(feed.patient, now=timezone.now())
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="schedule.ics"'
    return response
