"""Outcomes: point-of-care and laboratory results, the missed deadline, and resolving
the alerts they raise."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core import audit, clock, limits
from core.models import Site, User
from core.signals import test_alerts_resolved
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
    INVALID_VALIDITY,
    Analyte,
    AnalyteOutcome,
    AnalyteResult,
    Interpretation,
    Method,
    Outcome,
    ResultStatus,
    Selection,
    Specimen,
    Stage,
    TestAlert,
    TestResult,
    Validity,
    Via,
)
from ..signals import selection_outcome_changed
from ._common import _alerts, _clean_decimal


@dataclass(frozen=True)
class Reading:
    """One analyte's reading as a laboratory reports it (built by the labs app from an
    HL7 observation); a typed result's ``analytes`` become readings with the defaults."""

    analyte: str
    outcome: str
    ng_ml: Decimal | None = None
    stage: str = Stage.SCREEN
    status: str = ResultStatus.FINAL
    value_text: str = ""
    units: str = ""
    reference_range: str = ""
    cutoff: Decimal | None = None
    abnormal_flag: str = ""
    note: str = ""


def _check_readings(readings: Sequence[Reading], via: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    unknown = {r.analyte for r in readings} - set(Analyte.values)
    if unknown:
        errors["analytes"] = f"Unknown analytes: {', '.join(sorted(unknown))}."
    tested = [r for r in readings if r.outcome != AnalyteOutcome.NOT_TESTED]
    if not tested and via == Via.ENTERED:
        errors["analytes"] = "Enter at least one analyte's result."
    if not readings:
        errors["analytes"] = "A report needs at least one reading."
    keys = [(r.analyte, r.stage) for r in readings]
    if len(set(keys)) != len(keys):
        errors["analytes"] = "An analyte is read once per stage in one report."
    for r in readings:
        if r.outcome not in AnalyteOutcome.values:
            errors[f"a_{r.analyte}"] = "Choose positive, negative or not tested."
        if r.ng_ml is not None and r.ng_ml < 0:
            errors[f"ng_{r.analyte}"] = "A concentration cannot be negative."
        if r.stage not in Stage.values or r.status not in ResultStatus.values:
            errors[f"a_{r.analyte}"] = "Unknown stage or status."
    return errors


@transaction.atomic
def result_enter(
    *,
    actor: User | None,
    selection: Selection,
    source: str,
    analytes: Mapping[str, tuple[str, object]] | None = None,
    readings: Sequence[Reading] = (),
    lab_name: str = "",
    via: str = Via.ENTERED,
    reference: str = "",
    reported_at: datetime | None = None,
    lab_note: str = "",
    now: datetime | None = None,
) -> TestResult:
    """Enter a cup's or a lab's results; the lab confirms the same specimen later.

    Typed results (``analytes``: outcome and concentration per analyte) are one per
    source. A laboratory's interface (``via=Via.INTERFACE``, ``readings``) may report a
    specimen several times: each reading supersedes the current lab reading of the same
    analyte and stage, which stays as history."""
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
    all_readings = [
        Reading(analyte=code, outcome=outcome, ng_ml=_decimal_or_none(ng))
        for code, (outcome, ng) in (analytes or {}).items()
    ] + list(readings)
    errors = {}
    if source not in Method.values:
        errors["source"] = "Choose point-of-care or laboratory."
    elif via not in Via.values or (via == Via.INTERFACE and source != Method.LAB):
        errors["source"] = "Only a laboratory reports through an interface."
    elif via == Via.ENTERED and actor is None:
        errors["source"] = "A typed result needs the person who entered it."
    elif source == Method.POC and specimen.method == Method.LAB:
        errors["source"] = "This specimen went to the laboratory; enter the lab's result."
    elif (
        via == Via.ENTERED and TestResult.objects.filter(specimen=specimen, source=source).exists()
    ):
        errors["source"] = f"A {Method(source).label.lower()} result was already entered."
    errors.update(_check_readings(all_readings, via))
    if errors:
        raise ValidationError(errors)
    on = timezone.localdate(specimen.collected_at, selection.site.tz)
    meds = sorted(prescribed_medications(selection.patient_id, on))
    expected = expected_analytes(meds)
    # Read before the new rows exist: the current lab readings these ones replace.
    replaced: dict[tuple[str, str], AnalyteResult] = {}
    if via == Via.INTERFACE:
        replaced = {
            (row.analyte, row.stage): row
            for row in AnalyteResult.objects.filter(
                result__specimen=specimen,
                result__source=Method.LAB,
                superseded_by__isnull=True,
                analyte__in=[r.analyte for r in all_readings],
            )
        }
    result = TestResult.objects.create(
        specimen=specimen,
        source=source,
        entered_by=actor,
        entered_at=now,
        lab_name=lab_name,
        prescribed=meds,
        via=via,
        reference=reference,
        reported_at=reported_at,
        lab_note=lab_note,
    )
    rows = AnalyteResult.objects.bulk_create(
        [
            AnalyteResult(
                result=result,
                analyte=r.analyte,
                outcome=r.outcome,
                ng_ml=r.ng_ml,
                interpretation=interpret(r.analyte, r.outcome, expected),
                stage=r.stage,
                status=r.status,
                value_text=r.value_text,
                units=r.units,
                reference_range=r.reference_range,
                cutoff=r.cutoff,
                abnormal_flag=r.abnormal_flag,
                note=r.note,
            )
            for r in sorted(all_readings, key=lambda r: (r.analyte, r.stage))
        ]
    )
    superseded = []
    for row in rows:
        old = replaced.get((row.analyte, row.stage))
        if old is not None:
            old.superseded_by = row
            superseded.append(old)
    if superseded:
        AnalyteResult.objects.bulk_update(superseded, ["superseded_by"])
    _settle(selection, specimen, now=now)
    audit.record(
        action="drugtests.result_entered",
        actor=actor,
        patient_id=selection.patient_id,
        site_id=selection.site_id,
        obj=result,
        detail={
            "selection": selection.pk,
            "source": source,
            "via": via,
            **({"reference": reference} if reference else {}),
            **({"superseded": sorted(r.pk for r in superseded)} if superseded else {}),
        },
    )
    return result


def _decimal_or_none(value: object) -> Decimal | None:
    try:
        return _clean_decimal(value)
    except ArithmeticError as exc:
        raise ValidationError("A concentration must be a number.") from exc


def _settle(selection: Selection, specimen: Specimen, *, now: datetime) -> None:
    """The test's outcome and alerts from all its current readings; tell the listeners."""
    merged = effective_results(specimen.results.prefetch_related("analytes"))
    outcome = overall_outcome(specimen.validity, [r.interpretation for r in merged.values()])
    if outcome and outcome != selection.outcome:
        selection.outcome = outcome
        selection.save(update_fields=["outcome"])
    findings = []
    for row in merged.values():
        if row.interpretation == Interpretation.UNEXPECTED_POSITIVE:
            # One finding per positive: an opioid's is the overdose-risk one (it was both,
            # so the queue and the counselor's notification said it twice).
            kind = (
                TestAlert.Kind.OPIOID_POSITIVE
                if is_opioid(row.analyte)
                else TestAlert.Kind.UNEXPECTED_POSITIVE
            )
            findings.append((kind, row.analyte))
        elif row.interpretation == Interpretation.PRESCRIBED_ABSENT:
            findings.append((TestAlert.Kind.PRESCRIBED_ABSENT, row.analyte))
    if specimen.validity in INVALID_VALIDITY:
        findings.append((TestAlert.Kind.INVALID_SPECIMEN, ""))
    elif specimen.validity == Validity.REJECTED:
        findings.append((TestAlert.Kind.SPECIMEN_REJECTED, ""))
    _alerts(selection, findings, specimen=specimen, now=now)
    selection_outcome_changed.send(sender=Selection, selection_ids=[selection.pk])


@transaction.atomic
def specimen_validity_report(
    *,
    actor: User | None,
    specimen: Specimen,
    validity: str,
    reference: str = "",
    now: datetime | None = None,
) -> bool:
    """A laboratory's finding on a specimen (adulterated, substituted, invalid, rejected,
    or valid again in a correction): the test's outcome, alerts and listeners follow, as
    for a collector's finding. Returns whether anything changed."""
    now = clock.now(now)
    if validity not in Validity.values:
        raise ValidationError({"validity": "Unknown validity finding."})
    selection = (
        Selection.objects.select_for_update(of=("self",))
        .select_related("site")
        .get(pk=specimen.selection_id)
    )
    specimen = Specimen.objects.select_for_update().get(pk=specimen.pk)
    if specimen.validity == validity:
        return False
    before = specimen.validity
    specimen.validity = validity
    specimen.save(update_fields=["validity"])
    if validity in INVALID_VALIDITY and selection.outcome != Outcome.INVALID:
        selection.outcome = Outcome.INVALID
        selection.save(update_fields=["outcome"])
    elif before in INVALID_VALIDITY and validity not in INVALID_VALIDITY:
        # A corrected finding: the outcome is the readings' again (or none yet).
        merged = effective_results(specimen.results.prefetch_related("analytes"))
        selection.outcome = overall_outcome(validity, [r.interpretation for r in merged.values()])
        selection.save(update_fields=["outcome"])
    _settle(selection, specimen, now=now)
    audit.record(
        action="drugtests.specimen_validity_reported",
        actor=actor,
        patient_id=selection.patient_id,
        site_id=selection.site_id,
        obj=specimen,
        detail={
            "selection": selection.pk,
            "from": before,
            "to": validity,
            **({"reference": reference} if reference else {}),
        },
    )
    return True


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
        test_alerts_resolved.send(sender=TestAlert, patient_ids=[alert.patient_id])
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
