from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import InvalidPage
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from core import audit, sitechoice
from core.access import StaffRequest, staff_required
from core.clock import site_today
from core.csvexport import csv_response
from core.forms import add_service_errors
from core.formviews import ServiceFormView
from core.links import url_maker
from core.models import Role, Site
from patients.access import patient_get_for_user
from patients.models import Patient

from . import selectors
from .fairness import fairness_report
from .forms import (
    AlertResolveForm,
    CollectionForm,
    DayListFilterForm,
    ForCauseForm,
    ReasonForm,
    ResultForm,
)
from .interpretation import effective_results
from .label_ids import label_id
from .labels import label_for, labels_pdf
from .models import Interpretation, Method, Selection, Specimen
from .reports import csv_rows, site_report
from .selectors import (
    draw_get_for_user,
    selection_get_for_user,
    site_for_user,
    sites_for,
    today_list,
)
from .services.collection import for_cause_order, selection_refuse, specimen_collect
from .services.random_draw import selection_excuse
from .services.results import alert_resolve, result_enter
from .verification import verify_draws

D, C, M, F, X = Role.DIRECTOR, Role.COUNSELOR, Role.MEDICAL, Role.FRONT_DESK, Role.COLLECTOR
COLLECTORS = (D, M, X)
CLINICIANS = (D, M)


def _pick_site(request: StaffRequest) -> tuple[Site, list[Site]]:
    """The site asked for (remembered for the next picker), else the one last chosen,
    else the first."""
    sites = list(sites_for(request.user).order_by("name"))
    site_id = request.GET.get("site")
    if site_id:
        # ASCII digits of a bigint's length only: int() accepts other scripts' digits,
        # and the lookup a value the column cannot hold; both are simply no such site.
        if not (site_id.isascii() and site_id.isdigit() and len(site_id) <= 18):
            site_id = None
        site = site_for_user(request.user, site_id)
        sitechoice.remember(request, site)
    elif sites:
        site = sitechoice.recall(request, sites) or sites[0]
    else:
        site = site_for_user(request.user, None)
    return site, sites


@staff_required(D, C, M, F, X)
def today(request: StaffRequest) -> HttpResponse:
    site, sites = _pick_site(request)
    form = DayListFilterForm(request.GET)
    status, page = form.filters()
    try:
        data = today_list(request.user, site, status=status, page=page)
    except InvalidPage:
        raise Http404("No such page.") from None
    alerts = []
    if request.user.role in (D, M, C):
        alerts = selectors.open_alerts(request.user, site)
    # Each row's links from one reversal per route, not five {% url %} tags per row.
    link = {
        name: url_maker(f"drugtests:{name}")
        for name in ("collect", "label", "refuse", "result", "selection")
    }
    rows = [(s, {name: make(s.pk) for name, make in link.items()}) for s in data.rows]
    # The pager's links keep the site and the filter.
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "drugtests/today.html",
        {
            "data": data,
            "rows": rows,
            "form": form,
            "query": query.urlencode(),
            "sites": sites,
            "site": site,
            "alerts": alerts,
            "can_collect": request.user.role in COLLECTORS,
            "can_result": request.user.role in CLINICIANS,
            "can_resolve": request.user.role in (D, M, C),
            "is_director": request.user.role == D,
        },
    )


@staff_required(D, C, M)
def selection_detail(request: StaffRequest, pk: int) -> HttpResponse:
    selection = selection_get_for_user(request.user, pk)
    specimen = selectors.specimen_of(selection, with_collector=True)
    results = selectors.specimen_results(specimen) if specimen is not None else []
    merged = effective_results(results) if specimen is not None else {}
    audit.record(
        action="drugtests.selection_view",
        request=request,
        patient_id=selection.patient_id,
        site_id=selection.site_id,
        obj=selection,
    )
    return render(
        request,
        "drugtests/selection.html",
        {
            "selection": selection,
            "specimen": specimen,
            "results": results,
            "merged": sorted(merged.values(), key=lambda r: r.analyte),
            "flags": [
                r for r in merged.values() if r.interpretation == Interpretation.PRESCRIBED_ABSENT
            ],
            "alerts": list(selection.alerts.all()),
            "can_result": request.user.role in CLINICIANS,
            "more_results": specimen is not None
            and not any(r.source == Method.LAB for r in results),
            "can_collect": request.user.role in COLLECTORS,
            "excuse_form": ReasonForm(button="Excuse this test"),
        },
    )


class SelectionFormView(ServiceFormView):
    """A form about one selected test the user may see."""

    selection: Selection

    def load(self, **kwargs: Any) -> HttpResponse | None:
        self.selection = selection_get_for_user(self.request.user, kwargs["pk"])
        return None

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(selection=self.selection, **kwargs)


class CollectView(SelectionFormView):
    template_name = "drugtests/collect.html"
    form_class = CollectionForm

    def get_initial(self) -> dict[str, Any]:
        return {"specimen_type": self.selection.policy.specimen_type}

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "site": self.selection.site}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            patient=self.selection.patient, label_id=label_id(self.selection.pk), **kwargs
        )

    def perform(self, form: CollectionForm) -> Any:
        return specimen_collect(
            actor=self.request.user, selection=self.selection, **form.service_kwargs()
        )

    def get_success_message(self) -> str:
        return f"Specimen recorded for {self.selection.patient.display_name}."

    def get_success_url(self) -> str:
        return f"{_today_url()}?site={self.selection.site_id}"


collect = staff_required(*COLLECTORS)(CollectView.as_view())


@staff_required(*COLLECTORS)
@require_POST
def refuse(request: StaffRequest, pk: int) -> HttpResponse:
    selection = selection_get_for_user(request.user, pk)
    try:
        selection_refuse(actor=request.user, selection=selection)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.warning(request, f"Recorded: {selection.patient.display_name} refused the test.")
    return redirect(f"{_today_url()}?site={selection.site_id}")


class ForCauseView(ServiceFormView):
    template_name = "drugtests/for_cause.html"
    form_class = ReasonForm
    success_message = "For-cause test ordered; it is on today's list."
    patient: Patient

    def load(self, **kwargs: Any) -> HttpResponse | None:
        self.patient = patient_get_for_user(
            self.request.user,
            kwargs["patient_pk"],
            request=self.request,
            action="drugtests.for_cause",
        )
        return None

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "button": "Order for-cause test"}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(patient=self.patient, **kwargs)

    def perform(self, form: ReasonForm) -> Any:
        return for_cause_order(
            actor=self.request.user, patient=self.patient, reason=form.cleaned_data["reason"]
        )

    def get_success_url(self) -> str:
        return f"{_today_url()}?site={self.result.site_id}"


for_cause = staff_required(D, M, C)(ForCauseView.as_view())


@staff_required(*COLLECTORS)
def collect_unselected(request: StaffRequest) -> HttpResponse:
    """Walk-in collection: a patient not selected today is only tested for cause."""
    picker = ForCauseForm(request.POST or None, patients=selectors.walk_in_patients(request.user))
    form = CollectionForm(request.POST or None, for_cause=True)
    picked = request.method == "POST" and picker.is_valid()
    if picked:
        # The time typed is on the clock of the patient's site, known once picked.
        form.use_site(picker.cleaned_data["patient"].site)
    if picked and form.is_valid():
        patient = picker.cleaned_data["patient"]
        try:
            specimen_collect(actor=request.user, patient=patient, **form.service_kwargs())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"For-cause specimen recorded for {patient.display_name}.")
            return redirect(f"{_today_url()}?site={patient.site_id}")
    return render(request, "drugtests/collect_unselected.html", {"picker": picker, "form": form})


class EnterResultView(SelectionFormView):
    template_name = "drugtests/result.html"
    form_class = ResultForm
    success_message = "Results saved."
    specimen: Specimen

    def load(self, **kwargs: Any) -> HttpResponse | None:
        super().load(**kwargs)
        specimen = selectors.specimen_of(self.selection)
        if specimen is None:
            messages.error(self.request, "No specimen was collected for this test yet.")
            return redirect("drugtests:selection", pk=self.selection.pk)
        self.specimen = specimen
        return None

    def get_form_kwargs(self) -> dict[str, Any]:
        return {
            **super().get_form_kwargs(),
            "panel": self.selection.policy.panel,
            "method": self.specimen.method,
            "usual_lab": selectors.usual_lab(self.selection.site),
        }

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(specimen=self.specimen, **kwargs)

    def perform(self, form: ResultForm) -> Any:
        return result_enter(
            actor=self.request.user,
            selection=self.selection,
            source=form.cleaned_data["source"],
            lab_name=form.cleaned_data["lab_name"],
            analytes=form.analytes(),
        )

    def get_success_url(self) -> str:
        return reverse("drugtests:selection", kwargs={"pk": self.selection.pk})


enter_result = staff_required(*CLINICIANS)(EnterResultView.as_view())


@staff_required(*CLINICIANS)
@require_POST
def excuse(request: StaffRequest, pk: int) -> HttpResponse:
    selection = selection_get_for_user(request.user, pk)
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            selection_excuse(
                actor=request.user, selection=selection, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "Test excused; the draw is unchanged and notes it.")
    else:
        messages.error(request, "Say why the test is excused.")
    return redirect("drugtests:selection", pk=selection.pk)


# Counselors resolve alerts too: an unexpected positive or an opioid positive calls for
# the safety plan and naloxone check, which the counselor does with the patient.
@staff_required(D, M, C)
@require_POST
def resolve_alert(request: StaffRequest, pk: int) -> HttpResponse:
    alert = selectors.alert_get_for_user(request.user, pk)
    form = AlertResolveForm(request.POST)
    if form.is_valid():
        try:
            alert_resolve(actor=request.user, alert=alert, note=form.cleaned_data["note"])
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
    else:
        problems = " ".join(e["message"] for e in form.errors["note"].get_json_data())
        messages.error(request, f"The alert is still open: {problems}")
    return redirect(f"{_today_url()}?site={alert.site_id}")


@staff_required(D)
def draw_list(request: StaffRequest) -> HttpResponse:
    site, sites = _pick_site(request)
    draws = selectors.recent_draws(site)
    return render(request, "drugtests/draws.html", {"site": site, "sites": sites, "draws": draws})


@staff_required(D)
def draw_detail(request: StaffRequest, pk: int) -> HttpResponse:
    draw = draw_get_for_user(request.user, pk)
    pool = selectors.draw_pool(draw)
    audit.record(action="drugtests.draw_view", request=request, site_id=draw.site_id, obj=draw)
    return render(
        request,
        "drugtests/draw.html",
        {"draw": draw, "pool": pool, "corrections": selectors.draw_corrections(draw)},
    )


@staff_required(D)
def verify(request: StaffRequest) -> HttpResponse:
    site, sites = _pick_site(request)
    problems, checked = [], 0
    for item in verify_draws(site):
        if isinstance(item, int):
            checked = item
        else:
            problems.append(item)
    audit.record(
        action="drugtests.verify",
        request=request,
        site_id=site.pk,
        detail={"checked": checked, "problems": len(problems)},
    )
    return render(
        request,
        "drugtests/verify.html",
        {"site": site, "sites": sites, "problems": problems, "checked": checked},
    )


def _range(request: StaffRequest, site: Site) -> tuple[date, date, int]:
    try:
        weeks = max(1, min(52, int(request.GET.get("weeks", 8))))
    except ValueError:
        weeks = 8
    end = site_today(site)
    return end - timedelta(weeks=weeks) + timedelta(days=1), end, weeks


@staff_required(*CLINICIANS)
def fairness(request: StaffRequest) -> HttpResponse:
    site, sites = _pick_site(request)
    start, end, weeks = _range(request, site)
    report = fairness_report(site, start, end)
    return render(
        request,
        "drugtests/fairness.html",
        {
            "site": site,
            "sites": sites,
            "report": report,
            "start": start,
            "end": end,
            "weeks": weeks,
        },
    )


@staff_required(*CLINICIANS)
def site_report_view(request: StaffRequest) -> HttpResponse:
    site, sites = _pick_site(request)
    start, end, weeks = _range(request, site)
    rows, analytes = site_report(site, start, end)
    if request.GET.get("format") == "csv":
        audit.record(action="drugtests.report_export", request=request, site_id=site.pk)
        return csv_response(what="drug-tests", site=site, rows=csv_rows(rows, analytes))
    table = [{"row": r, "cells": [r.analytes.get(a, (0, 0)) for a in analytes]} for r in rows]
    return render(
        request,
        "drugtests/report.html",
        {
            "site": site,
            "sites": sites,
            "table": table,
            "analytes": analytes,
            "start": start,
            "end": end,
            "weeks": weeks,
        },
    )


def _pdf(content: bytes, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    # Inline: it opens in the browser's viewer, from which the label printer prints it.
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


@staff_required(*COLLECTORS)
def label(request: StaffRequest, pk: int) -> HttpResponse:
    """One test's label: its specimen's id once collected, its label id while pending."""
    selection = selection_get_for_user(request.user, pk)
    specimen = selectors.specimen_of(selection)
    if specimen is None and selection.status != Selection.Status.PENDING:
        messages.error(
            request, f"This test is {selection.get_status_display().lower()}: nothing to label."
        )
        return redirect(f"{_today_url()}?site={selection.site_id}")
    printed = label_for(selection, specimen)
    audit.record(
        action="drugtests.label_printed",
        request=request,
        patient_id=selection.patient_id,
        site_id=selection.site_id,
        obj=selection,
        detail={"specimen_id": printed.specimen_id},
    )
    return _pdf(labels_pdf([printed]), f"specimen-label-{selection.pk}.pdf")


@staff_required(*COLLECTORS)
def labels(request: StaffRequest) -> HttpResponse:
    """Labels for every test of the day still to collect at a site (printed in the
    morning, stuck on the cups as each patient arrives)."""
    site, _ = _pick_site(request)
    due = selectors.labels_to_print(request.user, site)
    audit.record(
        action="drugtests.labels_printed",
        request=request,
        site_id=site.pk,
        detail={"selections": [s.pk for s in due]},
    )
    content = labels_pdf(label_for(s, None) for s in due)
    return _pdf(content, f"specimen-labels-{site.code}-{site_today(site).isoformat()}.pdf")


def _today_url() -> str:
    return reverse("drugtests:today")
