from __future__ import annotations

import csv
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
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
from core.models import Role
from patients.access import patient_get_for_user, patients_visible_to
from patients.models import OPEN_STATUSES, TrackMembership

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
from .models import (
    Attendance,
    CalendarFeed,
    Holiday,
    SessionSeries,
    SessionStatus,
    SiteSchedule,
)
from .selectors import (
    billing_days,
    patient_sessions,
    rosters_for_sessions,
    session_get_for_user,
    sessions_between,
    sites_for,
    track_get_for_user,
    weekly_hours,
)

D, C, M, F = Role.DIRECTOR, Role.COUNSELOR, Role.MEDICAL, Role.FRONT_DESK


def _pick_site(request: HttpRequest):
    sites = list(sites_for(request.user).order_by("name"))
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
        site, sites = track.site, list(sites_for(request.user).order_by("name"))
    else:
        site, sites = _pick_site(request)
    monday = parse_week(request.GET.get("week"), site_today(site))
    sunday = monday + timedelta(days=6)
    sessions = list(sessions_between([site], monday, sunday, track=track))
    rosters = rosters_for_sessions(sessions)
    marked = dict(
        Attendance.objects.filter(session__in=sessions)
        .values("session")
        .annotate(n=Count("pk"))
        .values_list("session", "n")
    )
    days = []
    for i in range(7):
        day = monday + timedelta(days=i)
        entries = [
            {"session": s, "roster": len(rosters[s.pk]), "marked": marked.get(s.pk, 0)}
            for s in sessions
            if s.local_date == day
        ]
        days.append({"date": day, "entries": entries})
    tracks = list(site.tracks.filter(is_active=True).order_by("kind", "name"))
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
    sites = list(sites_for(request.user))
    now = timezone.now()
    days = {site_today(s, now) for s in sites} or {timezone.localdate()}
    sessions = [
        s
        for s in sessions_between(sites, min(days), max(days)).filter(facilitator=request.user)
        if s.local_date == site_today(s.site, now)
    ]
    rosters = rosters_for_sessions(sessions)
    marked = dict(
        Attendance.objects.filter(session__in=sessions)
        .values("session")
        .annotate(n=Count("pk"))
        .values_list("session", "n")
    )
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
    taken = list(
        Attendance.objects.filter(session=session)
        .annotate(n_changes=Count("changes"))
        .select_related("patient")
    )
    roster = rosters_for_sessions([session], attendance=taken)[session.pk]
    rows = {a.patient_id: a for a in taken}
    entries = _sheet(session, roster, rows, needs_reason, bound=bound)
    roster_ids = [p.pk for p in roster]
    candidates = (
        patients_visible_to(request.user)
        .filter(
            site_id=session.site_id,
            is_archived=False,
            enrollments__status__in=OPEN_STATUSES,
        )
        .exclude(pk__in=roster_ids)
        .order_by("legal_last_name", "legal_first_name")
        .distinct()
    )
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
        row = (
            Attendance.objects.filter(session=session, patient=patient)
            .annotate(n_changes=Count("changes"))
            .first()
        )
        if ok:
            form = _sheet(session, [patient], {patient.pk: row}, needs_reason)[0]["form"]
        entry = {"patient": patient, "row": row, "form": form, "saved": ok}
        taken = Attendance.objects.filter(session=session).values_list(
            "minutes_credited", flat=True
        )
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
    candidates = patients_visible_to(request.user).filter(site_id=session.site_id)
    form = MakeUpForm(request.POST, patients=candidates, needs_reason=_needs_reason(session, now))
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


@staff_required(D, C, F)
def session_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    session = session_get_for_user(request.user, pk)
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.session_cancel(
                actor=request.user, session=session, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            form.apply_errors(exc)
        else:
            messages.success(request, "Session cancelled; it will not count as an absence.")
            return redirect("scheduling:attendance", pk=session.pk)
    return render(
        request,
        "scheduling/session_form.html",
        {"session": session, "form": form, "heading": "Cancel session"},
        status=422 if form.errors else 200,
    )


@staff_required(D, C, F)
def session_move(request: HttpRequest, pk: int) -> HttpResponse:
    session = session_get_for_user(request.user, pk)
    tz = session.site.tz
    initial = {
        "day": session.local_date,
        "start": session.starts_at.astimezone(tz).time(),
        "end": session.ends_at.astimezone(tz).time(),
        "room": session.room,
    }
    form = MoveForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.session_move(
                actor=request.user,
                session=session,
                starts_at=local_datetime(d["day"], d["start"], session.site.tz),
                ends_at=local_datetime(d["day"], d["end"], session.site.tz),
                room=d["room"],
            )
        except ValidationError as exc:
            form.apply_errors(exc)
        else:
            messages.success(request, "Session moved; the series is unchanged.")
            return redirect("scheduling:attendance", pk=session.pk)
    return render(
        request,
        "scheduling/session_form.html",
        {"session": session, "form": form, "heading": "Move this session"},
        status=422 if form.errors else 200,
    )


# --- staff: tracks and series ----------------------------------------------


@staff_required(D, C, M, F)
def track_detail(request: HttpRequest, pk: int) -> HttpResponse:
    track = track_get_for_user(request.user, pk)
    series = list(
        SessionSeries.objects.filter(track=track, is_active=True)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=site_today(track.site)))
        .select_related("facilitator")
    )
    today = site_today(track.site)
    on_roster = (
        TrackMembership.objects.filter(track=track, start_date__lte=today)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
        .count()
    )
    return render(
        request,
        "scheduling/track.html",
        {
            "track": track,
            "series": series,
            "on_roster": on_roster,
            "can_edit": request.user.role in (D, C),
        },
    )


@staff_required(D, C)
def series_create(request: HttpRequest, pk: int) -> HttpResponse:
    track = track_get_for_user(request.user, pk)
    form = SeriesForm(
        request.POST or None,
        site=track.site,
        initial={"starts_on": site_today(track.site), "room": track.room},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.series_create(
                actor=request.user,
                track=track,
                starts_on=form.cleaned_data["starts_on"],
                **form.schedule_kwargs(),
            )
        except ValidationError as exc:
            form.apply_errors(exc)
        else:
            messages.success(request, "Series saved and sessions scheduled.")
            return redirect("scheduling:track", pk=track.pk)
    return render(
        request,
        "scheduling/series_form.html",
        {"track": track, "form": form, "heading": "New weekly series"},
        status=422 if form.errors else 200,
    )


@staff_required(D, C)
def series_edit(request: HttpRequest, pk: int) -> HttpResponse:
    series = SessionSeries.objects.select_related("track__site").filter(pk=pk).first()
    if series is None:
        raise Http404
    track = track_get_for_user(request.user, series.track_id)
    today = site_today(track.site)
    initial = {
        "kind": series.kind,
        "topic": series.topic,
        "weekdays": series.weekday_codes,
        "start_time": series.start_time,
        "end_time": series.end_time,
        "starts_on": max(today, series.starts_on),
        "ends_on": series.ends_on,
        "facilitator": series.facilitator_id,
        "room": series.room,
    }
    form = SeriesForm(request.POST or None, site=track.site, editing=True, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.series_update(
                actor=request.user,
                series=series,
                effective_date=form.cleaned_data["starts_on"],
                **form.schedule_kwargs(),
            )
        except ValidationError as exc:
            form.apply_errors(exc)
        else:
            messages.success(request, "Series changed from that date on; past sessions kept.")
            return redirect("scheduling:track", pk=track.pk)
    return render(
        request,
        "scheduling/series_form.html",
        {"track": track, "form": form, "heading": f"Change {series}"},
        status=422 if form.errors else 200,
    )


@staff_required(D, C, M, F)
def book_individual(request: HttpRequest, patient_pk: int) -> HttpResponse:
    patient = patient_get_for_user(request.user, patient_pk, request=request, action="session.book")
    form = BookingForm(
        request.POST or None, site=patient.site, initial={"facilitator": request.user.pk}
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            session = services.individual_session_book(
                actor=request.user,
                patient=patient,
                kind=d["kind"],
                starts_at=local_datetime(d["day"], d["start"], patient.site.tz),
                ends_at=local_datetime(d["day"], d["end"], patient.site.tz),
                facilitator=d["facilitator"],
                room=d["room"],
                video_link=d["video_link"],
                topic=d["topic"],
            )
        except ValidationError as exc:
            form.apply_errors(exc)
        else:
            messages.success(request, "Session booked.")
            return redirect("scheduling:attendance", pk=session.pk)
    return render(
        request,
        "scheduling/book.html",
        {"patient": patient, "form": form},
        status=422 if form.errors else 200,
    )


# --- staff: compliance and billing -----------------------------------------


@staff_required(D, C)
def compliance(request: HttpRequest) -> HttpResponse:
    """Weekly hours of the user's visible patients with an open enrollment at one site."""
    site, sites = _pick_site(request)
    monday = parse_week(request.GET.get("week"), site_today(site))
    visible = patients_visible_to(request.user).filter(
        site=site, enrollments__status__in=OPEN_STATUSES
    )
    # A counselor starts from their own caseload (everyone they may see is one click
    # away): the page then stays the size of a caseload, not of the site.
    scope = request.GET.get("scope") or ("mine" if request.user.role == Role.COUNSELOR else "all")
    if scope == "mine":
        visible = visible.filter(primary_counselor=request.user)
    patients = list(
        visible.select_related("site")
        .order_by("legal_last_name", "legal_first_name", "pk")
        .distinct()
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


@staff_required(D)
def holidays(request: HttpRequest) -> HttpResponse:
    """The site's holiday calendar by year; the director adds a day here."""
    site, sites = _pick_site(request)
    first, last = services.holiday_bounds(site)
    today = site_today(site)
    wanted = request.GET.get("year", "")
    year = int(wanted) if wanted.isdigit() and 1900 <= int(wanted) <= 2199 else today.year
    form = HolidayForm(request.POST or None, first=first, last=last)
    if request.method == "POST" and form.is_valid():
        try:
            holiday = services.holiday_add(
                actor=request.user,
                site=site,
                day=form.cleaned_data["date"],
                name=form.cleaned_data["name"],
            )
        except ValidationError as exc:
            form.apply_errors(exc)
        else:
            messages.success(
                request,
                f"{holiday.name} added: {site.name} is closed on {format_day(holiday.date)}; "
                "that day's sessions are cancelled and their patients told.",
            )
            return redirect(_holidays_url(site, holiday.date.year))
    days = list(Holiday.objects.filter(site=site, date__year=year).order_by("date"))
    years = sorted(
        {d.year for d in Holiday.objects.filter(site=site).dates("date", "year")} | {year}
    )
    return render(
        request,
        "scheduling/holidays.html",
        {
            "site": site,
            "sites": sites,
            "year": year,
            "years": years,
            "days": days,
            "form": form,
            "first": first,
            "today": today,
        },
        status=422 if form.errors else 200,
    )


@require_POST
@staff_required(D)
def holiday_change(request: HttpRequest) -> HttpResponse:
    """Remove (open the site) or restore one holiday of a site the director runs."""
    site, _ = _pick_site(request)
    wanted = request.POST.get("holiday", "")
    holiday = (
        Holiday.objects.filter(site=site, pk=int(wanted)).first() if wanted.isdigit() else None
    )
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
    feed = CalendarFeed.objects.filter(patient=patient, revoked_at__isnull=True).first()
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
    feed = (
        CalendarFeed.objects.filter(token=token, revoked_at__isnull=True)
        .select_related("patient__site")
        .first()
    )
    if feed is None or feed.patient.is_archived:
        raise Http404("No such calendar.")
    body = ical.patient_calendar(feed.patient, now=timezone.now())
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="schedule.ics"'
    return response
