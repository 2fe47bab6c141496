"""Thin views: access-checking getter, form, service, redirect.

Staff views reach a patient only through ``patient_get_for_user`` or a getter that
filters by ``patients_visible_to``; portal views take the patient from the login.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, NoReturn

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import BaseForm, Form
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core import audit
from core.access import (
    PortalRequest,
    StaffRequest,
    UserRequest,
    deny,
    patient_required,
    site_ids_for,
    staff_required,
)
from core.clock import parse_week, site_today, week_start
from core.forms import add_service_errors
from core.formviews import safe_next_url
from core.models import Role
from patients.access import patient_get_for_user
from patients.models import Patient

from . import selectors
from .forms import (
    AssignForm,
    GroupAssignForm,
    HomeworkTemplateForm,
    MeetingForm,
    MeetingReviewForm,
    RequirementForm,
    ReviewForm,
    SessionAssignForm,
    SponsorForm,
    StepForm,
    SubmissionForm,
)
from .models import Attachment, HomeworkStatus
from .services.homework import (
    homework_assign,
    homework_assign_session,
    homework_assign_track,
    homework_submit,
    homework_template_create,
)
from .services.homework import homework_review as homework_review_service  # a view has its name
from .services.meetings import meeting_log, meeting_requirement_set
from .services.meetings import meeting_review as meeting_review_service  # a view has its name
from .services.twelve_step import sponsor_set, step_set

REVIEWERS = (Role.DIRECTOR, Role.COUNSELOR)
CHART_ROLES = (Role.DIRECTOR, Role.COUNSELOR, Role.MEDICAL, Role.FRONT_DESK)
MEETING_LOGGERS = (Role.DIRECTOR, Role.COUNSELOR, Role.FRONT_DESK)


def _error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _serve(attachment: Attachment, request: UserRequest, *, patient_id: int | None) -> FileResponse:
    audit.record(
        action="recovery.file_download",
        request=request,
        patient_id=patient_id,
        site_id=attachment.site_id,
        obj=attachment,
    )
    try:
        handle = attachment.file.open("rb")
    except OSError:
        # The row outlived its file (e.g. a restore without the private media): say so
        # as a 404 rather than a 500; the audit row above records the attempt.
        raise Http404("File not available.") from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _deny_file(request: HttpRequest, pk: int) -> NoReturn:
    deny(
        request.user,
        action="recovery.file_download",
        message="No such file.",
        detail={"attachment": pk},
        request=request,
    )


# --- staff ------------------------------------------------------------------------


@staff_required(*REVIEWERS)
@require_GET
def queue(request: StaffRequest) -> HttpResponse:
    q = selectors.review_queue(request.user)
    # One row for the worklist read (it shows several patients' names and entries).
    audit.record(
        action="recovery.queue_view",
        request=request,
        detail={"meetings": len(q.meetings), "submissions": len(q.submissions)},
    )
    return render(request, "recovery/queue.html", {"queue": q, "here": request.path})


@staff_required(*REVIEWERS)
@require_GET
def weekly(request: StaffRequest) -> HttpResponse:
    """Meeting compliance of the user's open patients for one week (default: this one)."""
    this_monday = week_start(timezone.localdate())
    # A week out of range (9999-12-31) falls back to this one rather than overflowing.
    monday = parse_week(request.GET.get("week"), timezone.localdate())
    rows = selectors.caseload_compliance(request.user, monday)
    order = {"short": 0, "in_progress": 1, "awaiting": 2, "met": 3, "not_required": 4}
    rows.sort(key=lambda r: order.get(r.week.status, 5))
    audit.record(action="recovery.weekly_view", request=request, detail={"patients": len(rows)})
    return render(
        request,
        "recovery/weekly.html",
        {
            "rows": rows,
            "monday": monday,
            "sunday": monday + timedelta(days=6),
            "prev": monday - timedelta(days=7),
            "next": monday + timedelta(days=7) if monday < this_monday else None,
        },
    )


@staff_required(*REVIEWERS)
@require_POST
def meeting_review(request: StaffRequest, pk: int) -> HttpResponse:
    meeting = selectors.meeting_get_for_user(request.user, pk, request=request)
    form = MeetingReviewForm(request.POST)
    back = safe_next_url(request, reverse("recovery:queue"))
    if not form.is_valid():
        messages.error(request, "Choose verify or reject.")
        return redirect(back)
    verify = form.cleaned_data["decision"] == "verify"
    try:
        meeting_review_service(
            actor=request.user, meeting=meeting, verify=verify, reason=form.cleaned_data["reason"]
        )
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return redirect(back)
    messages.success(
        request,
        f"Meeting of {meeting.patient.display_name} {'verified' if verify else 'rejected'}.",
    )
    return redirect(back)


@staff_required(*REVIEWERS)
@require_POST
def homework_review(request: StaffRequest, pk: int) -> HttpResponse:
    submission = selectors.submission_get_for_user(request.user, pk, request=request)
    form = ReviewForm(request.POST)
    back = safe_next_url(request, reverse("recovery:queue"))
    if not form.is_valid():
        messages.error(request, "Choose accept or return.")
        return redirect(back)
    accept = form.cleaned_data["decision"] == "accept"
    try:
        homework_review_service(
            actor=request.user,
            submission=submission,
            accept=accept,
            comment=form.cleaned_data["comment"],
        )
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return redirect(back)
    outcome = "accepted" if accept else "returned with your comment"
    messages.success(request, f"“{submission.assignment.title}” {outcome}.")
    return redirect(back)


def _patient_page_context(
    request: StaffRequest, patient: Patient, **forms: BaseForm
) -> dict[str, Any]:
    url = reverse("recovery:patient", args=[patient.pk])
    templates = selectors.active_templates([patient.site_id])
    weeks, requirement = selectors.compliance_report(patient, weeks=6)
    today = site_today(patient.site)
    homework = selectors.patient_homework(patient)
    for item in homework:
        rounds = list(item.submissions.all())
        # The template reads `rounds`; declared on the model it would clash with the
        # count recovery.alerts annotates under that name.
        item.rounds = rounds  # type: ignore[attr-defined]
        item.display_status = item.status_on(today)
        item.awaiting = rounds[-1] if item.status == HomeworkStatus.SUBMITTED else None
    context = {
        "patient": patient,
        "weeks": weeks,
        "requirement": requirement,
        "meetings": selectors.patient_meetings(patient),
        "sponsor": selectors.current_sponsor(patient),
        "step": selectors.current_step(patient),
        "homework": homework,
        "today": today,
        "here": url,
        "can_review": request.user.role in REVIEWERS,
        "can_log": request.user.role in MEETING_LOGGERS,
        "meeting_form": MeetingForm(
            site=patient.site, submit="Log meeting for the patient", action=url
        ),
        "sponsor_form": SponsorForm(action=url, region=patient.site.country),
        "step_form": StepForm(action=url),
        "assign_form": AssignForm(templates=templates, action=url),
    }
    context.update(forms)
    return context


@staff_required(*CHART_ROLES)
@require_http_methods(["GET", "POST"])
def patient_recovery(request: StaffRequest, pk: int) -> HttpResponse:
    """A patient's meetings, sponsor, steps and homework; staff forms post here."""
    patient = patient_get_for_user(request.user, pk, request=request, action="recovery.view")
    # Dates and times typed and shown on this page are the patient's site's local time.
    with timezone.override(patient.site.tz):
        return _patient_recovery(request, patient)


def _patient_recovery(request: StaffRequest, patient: Patient) -> HttpResponse:
    if request.method == "GET":
        audit.record(
            action="recovery.view",
            request=request,
            patient_id=patient.pk,
            site_id=patient.site_id,
            obj=patient,
        )
        return render(request, "recovery/patient.html", _patient_page_context(request, patient))
    url = reverse("recovery:patient", args=[patient.pk])
    action = request.POST.get("action")
    role = request.user.role
    # Each branch picks the form and the service call that takes its cleaned data.
    form: Form
    call: Callable[[dict[str, Any]], object]
    if action == "meeting" and role in MEETING_LOGGERS:
        form = MeetingForm(
            request.POST,
            request.FILES,
            site=patient.site,
            submit="Log meeting for the patient",
            action=url,
        )
        key, done = "meeting_form", "Meeting logged; it waits for verification."
        call = lambda d: meeting_log(  # noqa: E731
            actor=request.user, patient=patient, **d
        )
    elif action == "sponsor" and role in REVIEWERS:
        form = SponsorForm(request.POST, action=url, region=patient.site.country)
        key, done = "sponsor_form", "Sponsor saved."
        call = lambda d: sponsor_set(actor=request.user, patient=patient, **d)  # noqa: E731
    elif action == "step" and role in REVIEWERS:
        form, key, done = StepForm(request.POST, action=url), "step_form", "Step saved."
        call = lambda d: step_set(actor=request.user, patient=patient, **d)  # noqa: E731
    elif action == "assign" and role in REVIEWERS:
        templates = selectors.active_templates([patient.site_id])
        form = AssignForm(request.POST, templates=templates, action=url)
        key, done = "assign_form", "Homework assigned."
        call = lambda d: homework_assign(  # noqa: E731
            actor=request.user, patient=patient, **d
        )
    else:
        raise PermissionDenied
    if form.is_valid():
        try:
            call(form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, done)
            return redirect(url)
    context = _patient_page_context(request, patient, **{key: form})
    return render(request, "recovery/patient.html", context)


def _library_context(request: StaffRequest, **forms: BaseForm) -> dict[str, Any]:
    sites = site_ids_for(request.user)
    site_qs = selectors.library_sites(request.user, sites)
    templates = selectors.active_templates(site_qs)
    url = reverse("recovery:library")
    context = {
        "templates": selectors.templates_for_sites(sites),
        "template_form": HomeworkTemplateForm(sites=site_qs, action=url),
        "group_form": GroupAssignForm(
            templates=templates,
            tracks=selectors.active_tracks(site_qs),
            action=url,
        ),
        "site_qs": site_qs,
        "templates_qs": templates,
    }
    sessions = selectors.group_sessions_near(site_qs, timezone.localdate())
    context["sessions_qs"] = sessions
    context["session_form"] = SessionAssignForm(templates=templates, sessions=sessions)
    context.update(forms)
    return context


@staff_required(*REVIEWERS)
@require_http_methods(["GET", "POST"])
def library(request: StaffRequest) -> HttpResponse:
    """The homework library of the user's sites, and assignment to a track's roster."""
    if request.method == "GET":
        return render(request, "recovery/library.html", _library_context(request))
    base = _library_context(request)
    url = reverse("recovery:library")
    if request.POST.get("action") == "template":
        form: Form = HomeworkTemplateForm(
            request.POST, request.FILES, sites=base["site_qs"], action=url
        )
        if form.is_valid():
            try:
                homework_template_create(actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "Added to the library.")
                return redirect(url)
        return render(request, "recovery/library.html", {**base, "template_form": form})
    if request.POST.get("action") == "session":
        return _library_assign_session(request, base, url)
    form = GroupAssignForm(
        request.POST,
        templates=base["templates_qs"],
        tracks=selectors.active_tracks(base["site_qs"]),
        action=url,
    )
    if form.is_valid():
        d = form.cleaned_data
        try:
            created, skipped = homework_assign_track(
                actor=request.user,
                track=d["track"],
                on=d["roster_date"],
                template=d["template"],
                due_date=d["due_date"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            note = f" ({skipped} already had it)" if skipped else ""
            messages.success(request, f"Assigned to {len(created)} patients{note}.")
            return redirect(url)
    return render(request, "recovery/library.html", {**base, "group_form": form})


def _library_assign_session(request: StaffRequest, base: dict[str, Any], url: str) -> HttpResponse:
    form = SessionAssignForm(
        request.POST, templates=base["templates_qs"], sessions=base["sessions_qs"]
    )
    if form.is_valid():
        d = form.cleaned_data
        try:
            created, skipped = homework_assign_session(
                actor=request.user,
                session=d["session"],
                template=d["template"],
                due_date=d["due_date"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            note = f" ({skipped} already had it)" if skipped else ""
            messages.success(request, f"Assigned to {len(created)} patients{note}.")
            return redirect(url)
    return render(request, "recovery/library.html", {**base, "session_form": form})


@staff_required(*CHART_ROLES)
@require_GET
def staff_file(request: StaffRequest, pk: int) -> FileResponse:
    attachment = selectors.attachment_get_for_staff(request.user, pk)
    if attachment is None:
        _deny_file(request, pk)
    return _serve(attachment, request, patient_id=attachment.patient_id)


@staff_required(Role.DIRECTOR)
@require_http_methods(["GET", "POST"])
def requirements(request: StaffRequest) -> HttpResponse:
    """Meetings a week per site and phase (a row without phase is the site default)."""
    sites, phases, current = selectors.requirement_settings(request.user)
    rows = []
    for site in sites:
        for phase in [None, *[p for p in phases if p.site_id == site.pk]]:
            key = (site.pk, phase.pk if phase else None)
            req = current.get(key)
            prefix = f"r{site.pk}-{phase.pk if phase else 0}"
            initial = (
                {"meetings_per_week": req.meetings_per_week, "fellowships": req.fellowships}
                if req
                else {}
            )
            bound = request.method == "POST" and request.POST.get("row") == prefix
            form = RequirementForm(request.POST if bound else None, prefix=prefix, initial=initial)
            rows.append({"site": site, "phase": phase, "req": req, "form": form, "key": prefix})
            if bound and form.is_valid():
                try:
                    meeting_requirement_set(
                        actor=request.user,
                        site=site,
                        phase=phase,
                        meetings_per_week=form.cleaned_data["meetings_per_week"],
                        fellowships=form.cleaned_data["fellowships"],
                    )
                except ValidationError as exc:
                    add_service_errors(form, exc)
                else:
                    messages.success(request, "Meeting requirement saved.")
                    return redirect("recovery:requirements")
    return render(request, "recovery/requirements.html", {"rows": rows})


# --- portal -----------------------------------------------------------------------


@patient_required
@require_http_methods(["GET", "POST"])
def portal_meetings(request: PortalRequest) -> HttpResponse:
    with timezone.override(request.patient.site.tz):
        return _portal_meetings(request, request.patient)


def _portal_meetings(request: PortalRequest, patient: Patient) -> HttpResponse:
    url = reverse("recovery:portal_meetings")
    form = MeetingForm(site=patient.site, action=url)
    if request.method == "POST":
        form = MeetingForm(request.POST, request.FILES, site=patient.site, action=url)
        if form.is_valid():
            try:
                meeting_log(actor=request.user, patient=patient, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    gettext("Thank you. Your meeting is logged and waits for staff to check it."),
                )
                return redirect(url)
    weeks, requirement = selectors.compliance_report(patient, weeks=4)
    return render(
        request,
        "recovery/portal_meetings.html",
        {
            "patient": patient,
            "week": weeks[0],
            "weeks": weeks,
            "requirement": requirement,
            "meetings": selectors.patient_meetings(patient, limit=20),
            "sponsor": selectors.current_sponsor(patient),
            "step": selectors.current_step(patient),
            "form": form,
        },
    )


def _portal_homework_page(
    request: PortalRequest,
    *,
    bound_for: int | None = None,
    bound_form: SubmissionForm | None = None,
    status: int = 200,
) -> HttpResponse:
    patient = request.patient
    homework = selectors.patient_homework(patient)
    today = site_today(patient.site)
    for item in homework:
        item.display_status = item.status_on(today)
        item.can_submit = item.status in (HomeworkStatus.ASSIGNED, HomeworkStatus.RETURNED)
        item.form = (
            bound_form if bound_for == item.pk else SubmissionForm(auto_id=f"hw{item.pk}_%s")
        )
    return render(
        request,
        "recovery/portal_homework.html",
        {"patient": patient, "homework": homework, "today": today},
        status=status,
    )


@patient_required
@require_GET
def portal_homework(request: PortalRequest) -> HttpResponse:
    return _portal_homework_page(request)


@patient_required
@require_POST
def portal_homework_submit(request: PortalRequest, pk: int) -> HttpResponse:
    assignment = selectors.homework_for_patient_portal(request.patient, pk)
    form = SubmissionForm(request.POST, request.FILES, auto_id=f"hw{pk}_%s")
    if form.is_valid():
        try:
            homework_submit(
                actor=request.user,
                assignment=assignment,
                text=form.cleaned_data["text"],
                files=form.cleaned_data["files"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                gettext("“%(title)s” sent to your counselor.") % {"title": assignment.title},
            )
            return redirect("recovery:portal_homework")
    return _portal_homework_page(request, bound_for=assignment.pk, bound_form=form)


@patient_required
@require_GET
def portal_file(request: PortalRequest, pk: int) -> FileResponse:
    attachment = selectors.attachment_get_for_patient(request.patient, pk)
    if attachment is None:
        _deny_file(request, pk)
    return _serve(attachment, request, patient_id=request.patient.pk)
