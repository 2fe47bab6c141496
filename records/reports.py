"""The director's report on clinical documentation: note timeliness by clinician and
month, and the treatment plans overdue (registered in ``core.reporting.REPORTS`` when
``ReportsConfig.ready()`` discovers this module)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.db.models.functions import TruncMonth

from core.charts import bar_chart
from core.reporting import Filters, Report, report
from patients.models import OPEN_STATUSES, Enrollment

from .models import ProgressNote, RecordStatus
from .selectors.common import plans_due

PLANS_OVERDUE = "Plans overdue"


def _pct(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


@report(
    "note-timeliness",
    "Note timeliness",
    "Progress notes of services in the period by clinician and month: signed on time, "
    "signed late (a late entry), and unsigned past their due day; then each open episode "
    "whose treatment plan or plan review is overdue today. A group note counts once per "
    "attendee's note, as each chart holds one.",
    order=60,
)
def note_timeliness(f: Filters) -> Report:
    signed = ~Q(status=RecordStatus.DRAFT)
    rows = (
        ProgressNote.objects.filter(
            site__organization_id=f.organization_id,
            site_id__in=f.site_ids,
            service_date__range=(f.start, f.end),
        )
        .annotate(month=TruncMonth("service_date"))
        .values("author_id", "author__first_name", "author__last_name", "author__username", "month")
        .annotate(
            on_time=Count("pk", filter=signed & Q(is_late=False)),
            late=Count("pk", filter=signed & Q(is_late=True)),
            overdue=Count("pk", filter=Q(status=RecordStatus.DRAFT, due_on__lt=f.today)),
        )
        .order_by("author__last_name", "author__first_name", "author_id", "month")
    )
    table: list[list[Any]] = []
    totals: dict[str, list[int]] = {}
    for r in rows:
        name = (
            f"{r['author__first_name']} {r['author__last_name']}".strip() or r["author__username"]
        )
        counted = r["on_time"] + r["late"] + r["overdue"]
        if not counted:
            # Only drafts not yet due: nothing to judge this month by.
            continue
        table.append(
            [
                name,
                r["month"].strftime("%Y-%m"),
                r["on_time"],
                r["late"],
                r["overdue"],
                _pct(r["on_time"], counted),
            ]
        )
        total = totals.setdefault(name, [0, 0])
        total[0] += r["on_time"]
        total[1] += counted
    chart = bar_chart(
        "Notes signed on time, by clinician",
        "% on time",
        [(name.split(" ")[0], _pct(on_time, n)) for name, (on_time, n) in totals.items()],
    )
    episodes = Enrollment.objects.filter(
        site__organization_id=f.organization_id,
        site_id__in=f.site_ids,
        status__in=OPEN_STATUSES,
    ).select_related("patient__primary_counselor")
    overdue = sorted(
        (item for item in plans_due(episodes) if item.overdue(f.today)),
        key=lambda item: (item.due.due_on, item.enrollment.pk),
    )
    for item in overdue:
        counselor = item.enrollment.patient.primary_counselor
        table.append(
            [
                PLANS_OVERDUE,
                item.enrollment.patient.display_name,
                item.due.reason,
                item.due.due_on.isoformat(),
                (f.today - item.due.due_on).days,
                str(counselor) if counselor is not None else "",
            ]
        )
    note = f"{len(overdue)} treatment plan{'s' if len(overdue) != 1 else ''} overdue today" + (
        " (listed after the notes: patient, reason, due on, days overdue, counselor)."
        if overdue
        else "."
    )
    return Report(
        chart=chart,
        columns=[
            "clinician",
            "month",
            "signed on time",
            "signed late",
            "unsigned, overdue",
            "% on time",
        ],
        rows=table,
        note=note,
    )
