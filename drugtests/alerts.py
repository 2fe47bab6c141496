"""Drug-testing alert rules for the staff home's alert queue.

The findings themselves are ``drugtests.TestAlert`` records, raised by the drug testing
services (a result, a collection, the deadline job) with one row per finding. The queue
shows every unresolved one; resolving it (``drugtests.services.results.alert_resolve``, on
the drug tests page) makes it disappear. The key is the record's id, so a later finding for
the same patient is a new occurrence that a dismissal of the first never hides.
"""

from __future__ import annotations

from datetime import date

from django.db.models import QuerySet
from django.urls import reverse

from core.alerts import Alert, rule
from core.formats import format_day
from patients.models import Patient

from .models import TestAlert

K = TestAlert.Kind

SEVERITY: dict[str, str] = {
    K.OPIOID_POSITIVE: "danger",
    K.UNEXPECTED_POSITIVE: "danger",
    K.PRESCRIBED_ABSENT: "warning",
    K.MISSED: "warning",
    K.INVALID_SPECIMEN: "warning",
    K.SPECIMEN_REJECTED: "warning",
}


def _message(alert: TestAlert) -> str:
    analyte = alert.get_analyte_display() if alert.analyte else ""
    on = f"{format_day(alert.selection.date, year=False)}"
    if alert.kind == K.OPIOID_POSITIVE:
        return (
            f"Opioid positive ({analyte}) on {on}: overdose risk. "
            "Review the safety plan and check the patient has naloxone"
        )
    if alert.kind == K.UNEXPECTED_POSITIVE:
        return f"Unexpected positive for {analyte} on {on}"
    if alert.kind == K.PRESCRIBED_ABSENT:
        return f"Prescribed {analyte} absent from the test on {on}"
    if alert.kind == K.MISSED:
        return f"Missed drug test on {on}"
    if alert.kind == K.SPECIMEN_REJECTED:
        return f"The laboratory rejected the specimen of {on}: nothing was tested"
    return f"Invalid specimen on {on} (adulterated, substituted or invalid)"


@rule(order=20)
def drug_test_findings(patients: QuerySet[Patient], today: date) -> list[Alert]:
    """Every unresolved drug-test finding of the patients, in one query."""
    rows = (
        TestAlert.objects.filter(
            patient_id__in=patients.order_by().values("pk"), resolved_at__isnull=True
        )
        .select_related("patient", "selection")
        .order_by("created_at", "pk")
    )
    today_url = reverse("drugtests:today")
    return [
        Alert(
            key=f"testalert:{a.pk}",
            kind=f"drugtest_{a.kind}",
            severity=SEVERITY.get(a.kind, "warning"),
            patient_id=a.patient_id,
            patient_name=a.patient.display_name,
            message=_message(a),
            # The open findings with their Resolve form are listed on the site's drug
            # tests page.
            action_url=f"{today_url}?site={a.site_id}",
            action_label="Open the drug-test alerts",
        )
        for a in rows
    ]
