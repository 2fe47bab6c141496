from datetime import date, timedelta
from urllib.parse import urlencode

from django.db.models import Q, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from core import audit
from core.access import StaffRequest, staff_required
from core.clock import parse_week, week_start
from core.csvexport import csv_response
from core.models import Role, Site
from patients.access import patients_visible_to
from patients.models import Patient
from scheduling.selectors.access import sites_for as scheduling_sites_for

from .compliance import GridRow, compliance_grid, sort_rows

# --- the weekly compliance grid ------------------------------------------------

GRID_COLUMNS = [
    ("name", "Patient"),
    ("hours", "Hours vs minimum"),
    ("tests", "Drug tests"),
    ("meetings", "Meetings verified"),
    ("homework", "Homework on time"),
]


def _grid_scope(request: StaffRequest) -> tuple[Site | None, list[Site], QuerySet[Patient]]:
    """(site or None, sites to pick from, patients): a counselor's own caseload at every
    site they work at; a director's patients at the picked site."""
    user = request.user
    visible = patients_visible_to(user)
    site: Site | None
    if user.role == Role.DIRECTOR:
        sites = list(scheduling_sites_for(user).order_by("name"))
        site_id = request.GET.get("site", "")
        if site_id:
            picked = scheduling_sites_for(user).filter(pk=site_id if site_id.isdigit() else 0)
            site = picked.first()
            if site is None:
                raise Http404("No such site.")
        elif sites:
            site = sites[0]
        else:
            raise Http404("No site.")
        visible = visible.filter(site=site)
    else:
        assert user.staff is not None  # staff_required let only clinic staff in
        sites, site = [], user.staff.sites.order_by("name").first()
        visible = visible.filter(primary_counselor=user)
    return site, sites, visible


def _enrolled_in_week(patients: QuerySet[Patient], monday: date) -> list[Patient]:
    """Patients with an enrollment overlapping the week: a past week still shows the
    patients discharged since. One filter() call, so both conditions are on one row."""
    sunday = monday + timedelta(days=6)
    return list(
        patients.filter(
            Q(enrollments__admission_date__lte=sunday)
            & (
                Q(enrollments__discharge_date__isnull=True)
                | Q(enrollments__discharge_date__gte=monday)
            )
        )
        .select_related("site")
        .distinct()
        .order_by("legal_last_name", "legal_first_name", "pk")
    )


@staff_required(Role.DIRECTOR, Role.COUNSELOR)
@require_GET
def compliance(request: StaffRequest) -> HttpResponse:
    site, sites, visible = _grid_scope(request)
    tz = site.tz if site else timezone.get_default_timezone()
    this_monday = week_start(timezone.localdate(timezone.now(), tz))
    monday = parse_week(request.GET.get("week"), this_monday)
    if not 2000 <= monday.year <= 2100:
        # Far-off dates would overflow the previous/next week links; nothing is there.
        monday = this_monday
    patients = _enrolled_in_week(visible, monday)
    rows, sort = sort_rows(compliance_grid(patients, monday), request.GET.get("sort", "name"))
    week = monday.isoformat()
    base: dict[str, str | int] = {"week": week}
    if site is not None and request.user.role == Role.DIRECTOR:
        base["site"] = site.pk
    if request.GET.get("format") == "csv":
        audit.record(
            action="compliance.exported",
            request=request,
            site_id=site.pk if site else None,
            detail={"week": week, "rows": len(rows), "sort": sort},
        )
        return _grid_csv(rows, monday, site)
    audit.record(
        action="compliance.viewed",
        request=request,
        site_id=site.pk if site else None,
        detail={"week": week, "rows": len(rows)},
    )
    columns = []
    for key, label in GRID_COLUMNS:
        state = "ascending" if sort == key else "descending" if sort == f"-{key}" else ""
        columns.append(
            {
                "key": key,
                "label": label,
                "state": state,
                "url": "?" + urlencode({**base, "sort": f"-{key}" if sort == key else key}),
            }
        )
    return render(
        request,
        "dashboard/compliance.html",
        {
            "site": site,
            "sites": sites,
            "rows": rows,
            "columns": columns,
            "sort": sort,
            "monday": monday,
            "sunday": monday + timedelta(days=6),
            "prev_url": "?" + urlencode({**base, "week": monday - timedelta(days=7), "sort": sort}),
            "next_url": "?" + urlencode({**base, "week": monday + timedelta(days=7), "sort": sort})
            if monday < this_monday
            else "",
            "this_week_url": "?" + urlencode({**base, "week": this_monday, "sort": sort}),
            "csv_url": "?" + urlencode({**base, "sort": sort, "format": "csv"}),
            "is_this_week": monday == this_monday,
        },
    )


def _grid_csv(rows: list[GridRow], monday: date, site: Site | None) -> HttpResponse:
    header = [
        "Patient",
        "MRN",
        "Site",
        "Week of",
        "Level",
        "Attended hours",
        "Minimum hours",
        "Hours status",
        "Drug tests",
        "Meetings verified",
        "Meetings required",
        "Meetings status",
        "Homework on time",
        "Homework late",
        "Homework missing",
        "Homework not due yet",
    ]
    body = []
    for r in rows:
        counts = r.homework_counts
        body.append(
            [
                r.patient.display_name,
                r.patient.mrn,
                r.patient.site.name,
                monday.isoformat(),
                r.hours.level_short,
                r.hours.attended_hours,
                r.hours.minimum_hours,
                r.hours.status_label,
                "; ".join(f"{c.selection.date.isoformat()} {c.label}" for c in r.tests),
                r.meetings.verified if r.meetings else "",
                r.meetings.required if r.meetings else "",
                r.meetings.status_label if r.meetings else "",
                counts["on_time"],
                counts["late"],
                counts["missing"],
                counts["not_due"],
            ]
        )
    # A counselor's grid without a site is their caseload, which may span sites.
    return csv_response(what="compliance", site=site, scope="caseload", header=header, rows=body)
