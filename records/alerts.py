"""The clinical record's alert rules for the staff home's alert queue: a note past its
due day still unsigned, a treatment plan (or its review) past its due date.

Keys name the occurrence: the note, or the episode and the due date, so a plan signed
and due again later is a new alert that an earlier dismissal never hides.
"""

from __future__ import annotations

from datetime import date

from django.db.models import QuerySet
from django.urls import NoReverseMatch, reverse

from core.alerts import Alert, rule
from core.formats import format_day
from patients.models import OPEN_STATUSES, Enrollment, Patient

from .models import NoteKind, ProgressNote, RecordStatus
from .selectors.common import plans_due


def _url(name: str, pk: int) -> str:
    # The note and plan pages belong to the notes and plans areas; the queue lists
    # the same items when one of them is not installed.
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:
        return reverse("records:queue")


@rule(order=50)
def note_overdue(patients: QuerySet[Patient], today: date) -> list[Alert]:
    """Unsigned notes past their due day, in one query."""
    rows = (
        ProgressNote.objects.filter(
            patient_id__in=patients.order_by().values("pk"),
            status=RecordStatus.DRAFT,
            due_on__lt=today,
        )
        .exclude(kind=NoteKind.GROUP)
        .select_related("patient", "author")
        .order_by("due_on", "pk")
    )
    return [
        Alert(
            key=f"note_overdue:{n.pk}",
            kind="note_overdue",
            severity="warning",
            patient_id=n.patient_id,
            patient_name=n.patient.display_name,
            message=(
                f"{n.get_kind_display()} note of {format_day(n.service_date, year=False)} "
                f"by {n.author} not signed; it was due {format_day(n.due_on, year=False)}"
            ),
            action_url=_url("records:note", n.pk),
            action_label="Open the note",
        )
        for n in rows
    ]


@rule(order=51)
def plan_overdue(patients: QuerySet[Patient], today: date) -> list[Alert]:
    """Open episodes whose plan or plan review is past due (the plan-due clock's three
    queries)."""
    episodes = Enrollment.objects.filter(
        patient_id__in=patients.order_by().values("pk"), status__in=OPEN_STATUSES
    )
    return [
        Alert(
            key=f"plan_overdue:{item.enrollment.pk}:{item.due.due_on.isoformat()}",
            kind="plan_overdue",
            severity="warning",
            patient_id=item.enrollment.patient_id,
            patient_name=item.enrollment.patient.display_name,
            message=f"{item.due.reason} was due {format_day(item.due.due_on, year=False)}",
            action_url=_url("records:plan", item.enrollment.patient_id),
            action_label="Open the treatment plan",
        )
        for item in plans_due(episodes)
        if item.overdue(today)
    ]
