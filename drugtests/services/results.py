"""Outcomes: point-of-care and laboratory results, the missed deadline, and resolving
the alerts they raise."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core import audit, clock, limits
from core.models import Site, User
from core.validators import require_plain_text
from patients.selectors import prescribed_medications

from ..interpretation import (
    effective_results,
    expected_analytes,
    interpret,
    is_opioid,
    overall_outcome,
)
from ..models import (
    Analyte,
    AnalyteOutcome,
    AnalyteResult,
    Interpretation,
    Method,
    Outcome,
    Selection,
    Specimen,
    TestAlert,
    TestResult,
)
from ..signals import selection_outcome_changed
from ._common import _alerts, _clean_decimal


@transaction.atomic
def result_enter(
    *,
    actor: User,
    selection: Selection,
    source: str,
    analytes: Mapping[str, tuple[str, object]],
    lab_name: str = "",
    now: datetime | None = None,
) -> TestResult:
    """Enter a cup's or a lab's results; the lab confirms the same specimen later."""
    now = clock.now(now)
    selection = (
        Selection.objects.select_for_update(of=("self",))
        .select_related("site")
        .get(pk=selection.pk)
    )
    specimen = Specimen.objects.filter(selection=selection).first()
    if specimen is None:
        raise ValidationError(
            "No specimen was collected for this test; record the collection first."
        )
    errors = {}
    if source not in Method.values:
        errors["source"] = "Choose point-of-care or laboratory."
    elif source == Method.POC and specimen.method == Method.LAB:
        errors["source"] = "This specimen went to the laboratory; enter the lab's result."
    elif TestResult.objects.filter(specimen=specimen, source=source).exists():
        errors["source"] = f"A {Method(source).label.lower()} result was already entered."
    unknown = set(analytes) - set(Analyte.values)
    if unknown:
        errors["analytes"] = f"Unknown analytes: {', '.join(sorted(unknown))}."
    tested = [a for a, (o, _) in analytes.items() if o != AnalyteOutcome.NOT_TESTED]
    if not tested:
        errors["analytes"] = "Enter at least one analyte's result."
    for code, (outcome, ng) in analytes.items():
        if outcome not in AnalyteOutcome.values:
            errors[f"a_{code}"] = "Choose positive, negative or not tested."
        if ng not in (None, "") and Decimal(str(ng)) < 0:
            errors[f"ng_{code}"] = "A concentration cannot be negative."
    if errors:
        raise ValidationError(errors)
    on = timezone.localdate(specimen.collected_at, selection.site.tz)
    meds = sorted(prescribed_medications(selection.patient_id, on))
    expected = expected_analytes(meds)
    result = TestResult.objects.create(
        specimen=specimen,
        source=source,
        entered_by=actor,
        entered_at=now,
        lab_name=lab_name,
        prescribed=meds,
    )
    AnalyteResult.objects.bulk_create(
        [
            AnalyteResult(
                result=result,
                analyte=code,
                outcome=outcome,
                ng_ml=_clean_decimal(ng),
                interpretation=interpret(code, outcome, expected),
            )
            for code, (outcome, ng) in sorted(analytes.items())
        ]
    )
    merged = effective_results(specimen.results.prefetch_related("analytes"))
    outcome = overall_outcome(specimen.validity, [r.interpretation for r in merged.values()])
    if outcome and outcome != selection.outcome:
        selection.outcome = outcome
        selection.save(update_fields=["outcome"])
    findings = []
    for row in merged.values():
        if row.interpretation == Interpretation.UNEXPECTED_POSITIVE:
            findings.append((TestAlert.Kind.UNEXPECTED_POSITIVE, row.analyte))
            if is_opioid(row.analyte):
                findings.append((TestAlert.Kind.OPIOID_POSITIVE, row.analyte))
        elif row.interpretation == Interpretation.PRESCRIBED_ABSENT:
            findings.append((TestAlert.Kind.PRESCRIBED_ABSENT, row.analyte))
    _alerts(selection, findings, specimen=specimen, now=now)
    selection_outcome_changed.send(sender=Selection, selection_ids=[selection.pk])
    audit.record(
        action="drugtests.result_entered",
        actor=actor,
        patient_id=selection.patient_id,
        site_id=selection.site_id,
        obj=result,
        detail={"selection": selection.pk, "source": source},
    )
    return result


@transaction.atomic
def alert_resolve(*, actor: User, alert: TestAlert, note: str, now: datetime | None = None) -> int:
    now = clock.now(now)
    require_plain_text(note=note)
    # A conditional update (so two people resolving at once record one resolution) skips
    # the save-time length check: the note is checked here instead.
    if len(note) > limits.NOTE:
        raise ValidationError({"note": limits.too_long_message(limits.NOTE, len(note))})
    updated = TestAlert.objects.filter(pk=alert.pk, resolved_at__isnull=True).update(
        resolved_at=now, resolved_by=actor, resolution_note=note
    )
    if updated:
        audit.record(
            action="drugtests.alert_resolved",
            actor=actor,
            patient_id=alert.patient_id,
            site_id=alert.site_id,
            obj=alert,
        )
    return updated


@transaction.atomic
def selections_mark_missed(*, now: datetime | None = None, site: Site | None = None) -> int:
    """Mark every pending test whose deadline has passed as missed; reruns do nothing."""
    now = clock.now(now)
    due = Selection.objects.filter(status=Selection.Status.PENDING, deadline__lte=now)
    if site is not None:
        due = due.filter(site=site)
    ids = list(due.values_list("pk", flat=True))
    if not ids:
        return 0
    # The status condition is repeated in the UPDATE: a collection committed since the
    # read above keeps its status, and a concurrent run updates nothing twice.
    count = Selection.objects.filter(pk__in=ids, status=Selection.Status.PENDING).update(
        status=Selection.Status.MISSED, outcome=Outcome.MISSED, status_changed_at=now
    )
    missed = Selection.objects.filter(pk__in=ids, status=Selection.Status.MISSED).only(
        "pk", "patient_id", "site_id"
    )
    TestAlert.objects.bulk_create(
        [
            TestAlert(
                kind=TestAlert.Kind.MISSED,
                patient_id=s.patient_id,
                site_id=s.site_id,
                selection_id=s.pk,
                created_at=now,
            )
            for s in missed
        ],
        ignore_conflicts=True,
    )
    if count:
        selection_outcome_changed.send(sender=Selection, selection_ids=[s.pk for s in missed])
        audit.record(action="drugtests.marked_missed", at=now, detail={"count": count})
    return count
