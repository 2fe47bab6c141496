"""Measurement-based care's alert rule for the staff home's queue: an answer that needs a
same-day safety follow-up (PHQ-9 item 9 above 0), urgent until a staff member records the
follow-up. It cannot be acknowledged or snoozed; the follow-up is what resolves it.

The counselor's queue holds their caseload's; an on-duty clinician's queue adds the
patients whose counselor is away (dashboard's COVERAGE_RULES names this rule).
"""

from __future__ import annotations

from datetime import date

from django.db.models import QuerySet
from django.urls import reverse

from core.alerts import Alert, rule
from core.formats import format_when
from patients.models import Patient

from .models import SafetyEvent


def _flag_label(event: SafetyEvent) -> str:
    # The instrument's own words for the flag ("Thoughts of self-harm (item 9)"), so a
    # site's added instrument with a safety item needs no code here.
    for flag in event.administration.instrument.scoring.get("flags", []):
        if flag.get("item") == event.item_number:
            label = str(flag.get("label", ""))
            return label.split(" (item")[0].lower()
    return "a safety question"


@rule(order=1)
def safety_followup_due(patients: QuerySet[Patient], today: date) -> list[Alert]:
    """Open safety events of these patients, oldest first, in one query."""
    events = (
        SafetyEvent.objects.filter(
            patient_id__in=patients.order_by().values("pk"), followup_at__isnull=True
        )
        .select_related("patient__site", "administration__instrument")
        .order_by("raised_at", "pk")
    )
    return [
        Alert(
            key=f"safety_followup:{e.pk}",
            kind="safety_followup",
            severity="danger",
            patient_id=e.patient_id,
            patient_name=e.patient.display_name,
            message=(
                f"{e.administration.instrument.short_name} item {e.item_number} answered "
                f"{e.value} ({_flag_label(e)}) on "
                f"{format_when(e.raised_at, year=False, tz=e.patient.site.tz)}: "
                "same-day safety follow-up"
            ),
            action_url=reverse("measures:safety_followup", args=[e.pk]),
            action_label="Record the safety follow-up",
            can_set_aside=False,
        )
        for e in events
    ]
