"""Reading a result against the patient's medication-assisted treatment on that day."""

from __future__ import annotations

from collections.abc import Iterable

from .models import (
    INVALID_VALIDITY,
    OPIOID_ANALYTES,
    Analyte,
    AnalyteOutcome,
    AnalyteResult,
    Interpretation,
    Outcome,
    Stage,
    TestResult,
)

# Medication code -> the analyte a test shows for it. Naltrexone is on no panel.
MAT_ANALYTES = {
    "buprenorphine_sl": Analyte.BUPRENORPHINE,
    "buprenorphine_naloxone": Analyte.BUPRENORPHINE,
    "buprenorphine_xr": Analyte.BUPRENORPHINE,
    "buprenorphine_implant": Analyte.BUPRENORPHINE,
    "methadone": Analyte.METHADONE,
}


def expected_analytes(medication_codes: Iterable[str]) -> frozenset[str]:
    return frozenset(MAT_ANALYTES[m] for m in medication_codes if m in MAT_ANALYTES)


def interpret(analyte: str, outcome: str, expected: frozenset[str]) -> str:
    if outcome == AnalyteOutcome.NOT_TESTED:
        return Interpretation.NOT_TESTED
    prescribed = analyte in expected
    if outcome == AnalyteOutcome.POSITIVE:
        return (
            Interpretation.EXPECTED_POSITIVE if prescribed else Interpretation.UNEXPECTED_POSITIVE
        )
    return Interpretation.PRESCRIBED_ABSENT if prescribed else Interpretation.EXPECTED_NEGATIVE


def _weight(row: AnalyteResult) -> tuple[bool, bool]:
    # A reading beats one that was not tested; a confirmation beats a screen.
    return (row.outcome != AnalyteOutcome.NOT_TESTED, row.stage == Stage.CONFIRMATION)


def effective_results(results: Iterable[TestResult]) -> dict[str, AnalyteResult]:
    """Per analyte, the lab's answer when it tested it (its confirmation over its screen),
    else the cup's (AnalyteResult rows). Superseded readings (corrected since) are history
    and count for nothing."""
    by_source: dict[str, dict[str, AnalyteResult]] = {"poc": {}, "lab": {}}
    for result in results:
        for row in result.analytes.all():
            if row.superseded_by_id is not None:
                continue
            held = by_source[result.source].get(row.analyte)
            if held is None or _weight(row) >= _weight(held):
                by_source[result.source][row.analyte] = row
    merged = dict(by_source["poc"])
    for analyte, row in by_source["lab"].items():
        if row.outcome != AnalyteOutcome.NOT_TESTED or analyte not in merged:
            merged[analyte] = row
    return merged


def overall_outcome(validity: str, interpretations: Iterable[str]) -> str:
    """The test's outcome from the specimen's validity and per-analyte interpretations."""
    if validity in INVALID_VALIDITY:
        return Outcome.INVALID
    found = set(interpretations)
    if Interpretation.UNEXPECTED_POSITIVE in found:
        return Outcome.POSITIVE
    if Interpretation.EXPECTED_POSITIVE in found:
        return Outcome.EXPLAINED
    if found - {Interpretation.NOT_TESTED}:
        return Outcome.NEGATIVE
    return ""


def is_opioid(analyte: str) -> bool:
    return analyte in OPIOID_ANALYTES
