"""Staff pages: the week calendar, tracks and series, booking, hours, billing, holidays."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from core import audit, sitechoice
from core.access import StaffRequest, staff_required
from core.clock import local_datetime, parse_week, site_today
from core.csvexport import csv_response
from core.formats import format_day
from core.formviews import ServiceFormView
from core.models import Role, Site
from patients.access import patient_get_for_user, patients_visible_to
from patients.models import Patient, Track

from ..forms import (
    BookingForm,
    HolidayChangeForm,
    HolidayForm,
    SeriesForm,
)
from ..models import SessionSeries
from ..selectors.access import series_get_for_user, site_choices, track_get_for_user
from ..selectors.billing import billing_days
from ..selectors.calendar import holiday_of_site, holiday_years, holidays_in_year
from ..selectors.hours import compliance_patients, weekly_hours_precomputed
from ..selectors.rosters import rosters_for_sessions, track_roster_count
from ..selectors.sessions import (
    active_tracks,
    attendance_marked_counts,
    facilitator_sessions_today,
    sessions_between,
    track_current_series,
)
from ..services.bookings import individual_session_book
from ..services.series import series_create as series_create_service  # a view has its name
from ..services.series import series_update
from ..services.site_holidays import holiday_add, holiday_bounds, holiday_remove, holiday_restore

D, C, M, F = Role.DIRECTOR, Role.COUNSELOR, Role.MEDICAL, Role.FRONT_DESK


def _pick_site(request: StaffRequest) -> tuple[Site, list[Site]]:
    sites = site_choices(request.user)
    if not sites:
        raise Http404("No site.")
    wanted = request.GET.get("site")
    if wanted:
        chosen = next((s for s in sites if str(s.pk) == wanted), None)
        if chosen is None:
            raise Http404("No such site.")
        sitechoice.remember(request, chosen)
        return chosen, sites
    return sitechoice.recall(request, sites) or sites[0], sites


# --- staff: calendar and my sessions ---------------------------------------


@staff_required(D, C, M, F)
def calendar(request: StaffRequest) -> HttpResponse:
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
def my_sessions(request: StaffRequest) -> HttpResponse:
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


# --- staff: tracks and series ----------------------------------------------


@staff_required(D, C, M, F)
def track_detail(request: StaffRequest, pk: int) -> HttpResponse:
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
        return series_create_service(
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
        return series_update(
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
        return individual_session_book(
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
        return reverse("scheduling:attendance", kwargs={"pk": self.result.pk})


book_individual = staff_required(D, C, M, F)(BookIndividualView.as_view())


# --- staff: compliance and billing -----------------------------------------


@staff_required(D, C)
def compliance(request: StaffRequest) -> HttpResponse:
    """Weekly hours of the user's visible patients with an open enrollment at one site."""
    site, sites = _pick_site(request)
    monday = parse_week(request.GET.get("week"), site_today(site))
    # A counselor starts from their own caseload (everyone they may see is one click
    # away): the page then stays the size of a caseload, not of the site.
    scope = request.GET.get("scope") or ("mine" if request.user.role == Role.COUNSELOR else "all")
    patients = compliance_patients(
        request.user, site, counselor=request.user if scope == "mine" else None
    )
    rows = weekly_hours_precomputed(patients, monday)
    audit.record(action="scheduling.compliance_view", request=request, site_id=site.pk)
    counts: dict[str, int] = {}
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
def billing(request: StaffRequest) -> HttpResponse:
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
        return csv_response(
            what="billing-days",
            site=site,
            header=["date", "mrn", "patient", "sessions", "attended_minutes", "meets_iop_day"],
            rows=(
                [
                    d.day.isoformat(),
                    d.patient.mrn,
                    d.patient.display_name,
                    d.sessions,
                    d.minutes,
                    "yes" if d.meets_iop_day else "no",
                ]
                for d in days
            ),
        )
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


def _holidays_url(site: Site, year: int | None = None) -> str:
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
        self.first, self.last = holiday_bounds(self.site)
        self.today = site_today(self.site)
        wanted = self.request.GET.get("year", "")
        valid = wanted.isdigit() and 1900 <= int(wanted) <= 2199
        self.year = int(wanted) if valid else self.today.year
        return None

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "first": self.first, "last": self.last}

    def perform(self, form: HolidayForm) -> Any:
        return holiday_add(
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
def holiday_change(request: StaffRequest) -> HttpResponse:
    """Remove (open the site) or restore one holiday of a site the director runs."""
    site, _ = _pick_site(request)
    form = HolidayChangeForm(request.POST)
    if not form.is_valid():
        raise Http404("No such holiday or change.")
    holiday = holiday_of_site(site, form.cleaned_data["holiday"])
    if holiday is None:
        raise Http404("No such holiday.")
    action = form.cleaned_data["action"]
    change = {"remove": holiday_remove, "restore": holiday_restore}[action]
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
