"""Drug testing's entries in the patient's timeline: each test (collected, missed,
refused, excused or still pending) and each result entered for it.

Three queries whatever the number of tests (``core.timeline``)."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import DateTimeField
from django.db.models.functions import Coalesce
from django.urls import reverse

from core.models import Role
from core.timeline import TimelineEntry, TimelineQuery, source

from .models import AnalyteOutcome, AnalyteResult, Interpretation, Selection, TestResult

# Who opens a test's page (drugtests.views.selection_detail's rule).
DETAIL_ROLES = frozenset({Role.DIRECTOR, Role.MEDICAL, Role.COUNSELOR})
STATUS_BADGES: dict[str, str] = {
    Selection.Status.PENDING: "text-bg-warning",
    Selection.Status.COLLECTED: "text-bg-success",
    Selection.Status.MISSED: "text-bg-danger",
    Selection.Status.REFUSED: "text-bg-danger",
}


@source("tests", order=20)
def tests(query: TimelineQuery) -> list[TimelineEntry]:
    linked = query.viewer.role in DETAIL_ROLES
    return _selections(query, linked) + _results(query, linked)


def _selections(query: TimelineQuery, linked: bool) -> list[TimelineEntry]:
    # A collected test sits at its collection; any other at its deadline.
    rows = (
        Selection.objects.filter(patient=query.patient)
        .select_related("specimen")
        .annotate(at=Coalesce("specimen__collected_at", "deadline", output_field=DateTimeField()))
    )
    if query.start is not None:
        rows = rows.filter(at__gte=query.start)
    if query.end is not None:
        rows = rows.filter(at__lt=query.end)
    rows = rows.order_by("-at", "-pk")
    if query.limit is not None:
        rows = rows[: query.limit]
    entries = []
    for row in rows:
        specimen = getattr(row, "specimen", None)
        detail = ""
        if specimen is not None:
            observed = "observed" if specimen.observed else "unobserved"
            detail = f"{specimen.get_specimen_type_display()}, {observed}"
        outcome = row.get_outcome_display() if row.outcome else ""
        entries.append(
            TimelineEntry(
                at=row.at,
                day=row.date,
                kind="tests",
                title=f"{row.get_kind_display()} drug test",
                detail=detail,
                status=row.get_status_display(),
                url=reverse("drugtests:selection", args=[row.pk]) if linked else None,
                badge=STATUS_BADGES.get(row.status, "text-bg-secondary"),
                labels=(outcome,) if outcome else (),
            )
        )
    return entries


def _results(query: TimelineQuery, linked: bool) -> list[TimelineEntry]:
    rows = TestResult.objects.filter(specimen__patient=query.patient).select_related(
        "specimen__selection"
    )
    if query.start is not None:
        rows = rows.filter(entered_at__gte=query.start)
    if query.end is not None:
        rows = rows.filter(entered_at__lt=query.end)
    rows = rows.order_by("-entered_at", "-pk")
    if query.limit is not None:
        rows = rows[: query.limit]
    # The positives in a query of their own that runs whether or not there are results
    # (a prefetch would not), so the page's count does not depend on the patient's tests.
    positive_by_result: dict[int, list[AnalyteResult]] = defaultdict(list)
    for analyte in AnalyteResult.objects.filter(
        result__in=rows.values("pk"), outcome=AnalyteOutcome.POSITIVE
    ).order_by("analyte"):
        positive_by_result[analyte.result_id].append(analyte)
    tz = query.patient.site.tz
    entries = []
    for row in rows:
        selection = row.specimen.selection
        # A positive a later lab report corrected is history: named, never counted.
        found = [a for a in positive_by_result[row.pk] if a.superseded_by_id is None]
        corrected = [a for a in positive_by_result[row.pk] if a.superseded_by_id is not None]
        positives = [
            a.get_analyte_display()
            + (" (prescribed)" if a.interpretation == Interpretation.EXPECTED_POSITIVE else "")
            for a in found
        ]
        unexpected = any(a.interpretation != Interpretation.EXPECTED_POSITIVE for a in found)
        if unexpected:
            status, badge = "Positive", "text-bg-danger"
            detail = "Positive for " + ", ".join(positives)
        elif positives:
            status, badge = "Explained", "text-bg-info"
            detail = "Positive for " + ", ".join(positives)
        elif corrected:
            status, badge = "Corrected", "text-bg-secondary"
            detail = "Positive for " + ", ".join(a.get_analyte_display() for a in corrected)
            detail += ", corrected by a later report"
        else:
            status, badge, detail = "Negative", "text-bg-success", "No analyte positive"
        if row.lab_name:
            detail = f"{detail} · {row.lab_name}"
        entries.append(
            TimelineEntry(
                at=row.entered_at,
                day=row.entered_at.astimezone(tz).date(),
                kind="tests",
                title=row.source_label,
                detail=detail,
                status=status,
                url=reverse("drugtests:selection", args=[selection.pk]) if linked else None,
                badge=badge,
            )
        )
    return entries
