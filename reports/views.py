from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from core import audit
from core.access import StaffRequest, staff_required
from core.csvexport import csv_response
from core.models import Role
from core.reporting import REPORTS, Filters

from .forms import ReportFilterForm


@staff_required(Role.DIRECTOR)
def index(request: StaffRequest) -> HttpResponse:
    return render(request, "reports/index.html", {"reports": REPORTS.values()})


@staff_required(Role.DIRECTOR)
def detail(request: StaffRequest, slug: str) -> HttpResponse:
    spec = REPORTS.get(slug)
    if spec is None:
        raise Http404("No such report.")
    staff = request.user.staff
    assert staff is not None  # staff_required let only clinic staff in
    sites = staff.organization.sites.filter(is_active=True)
    form = ReportFilterForm(request.GET or None, sites=sites)
    result = None
    if form.is_valid():
        chosen = form.cleaned_data["site"]
        filters = Filters(
            organization_id=staff.organization_id,
            site_ids=[chosen.pk] if chosen else [s.pk for s in sites],
            start=form.cleaned_data["start"],
            end=form.cleaned_data["end"],
            today=timezone.localdate(),
        )
        result = spec.build(filters)
        if request.GET.get("format") == "csv":
            audit.record(
                action="report.exported",
                request=request,
                detail={"report": slug, "start": str(filters.start), "end": str(filters.end)},
            )
            return csv_response(what=slug, site=chosen, header=result.columns, rows=result.rows)
    return render(request, "reports/detail.html", {"spec": spec, "form": form, "result": result})
