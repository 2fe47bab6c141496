"""The code table's standard rows: the urine drug-test LOINC codes the field's notes name
(CLINICAL.md) and common screen and confirmation codes, checked against LOINC's own
names, with the federal workplace cut-offs (ng/mL) where one applies. The codes the
FHIR export used before this table (drugtests.loinc.KNOWN) are the preferred ones, so
its answers do not change. A director adds the rest for their organisation (a
laboratory's local codes, the analytes left out here) on the code table screen.

Loaded by migration 0002 and again, for any row missing, after every ``migrate`` or
test flush (``post_migrate``, connected in ``LabsConfig.ready``): a transactional test's
flush empties the table, and every later import would find no code. Idempotent."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils import timezone

S, C, INFO = "screen", "confirmation", "information"
# code, display, kind, analyte, default cut-off, preferred
CODES = [
    ("3393-6", "Benzoylecgonine [Presence] in Urine", S, "cocaine", "150", True),
    ("19359-9", "Cocaine [Presence] in Urine by Screen method", S, "cocaine", "150", False),
    (
        "14315-6",
        "Benzoylecgonine [Mass/volume] in Urine by Confirmatory method",
        C,
        "cocaine",
        "100",
        True,
    ),
    ("19295-5", "Opiates [Presence] in Urine by Screen method", S, "opiates", "2000", True),
    (
        "17384-9",
        "Opiates [Mass/volume] in Urine by Confirmatory method",
        C,
        "opiates",
        "2000",
        True,
    ),
    (
        "19343-3",
        "Amphetamine [Presence] in Urine by Screen method",
        S,
        "amphetamine",
        "500",
        True,
    ),
    (
        "19554-5",
        "Methamphetamine [Presence] in Urine by Screen method",
        S,
        "methamphetamine",
        "500",
        True,
    ),
    ("18282-4", "Cannabinoids [Presence] in Urine by Screen method", S, "thc", "50", True),
    (
        "14316-4",
        "Benzodiazepines [Presence] in Urine by Screen method",
        S,
        "benzodiazepines",
        None,
        True,
    ),
    ("19270-8", "Barbiturates [Presence] in Urine by Screen method", S, "barbiturates", None, True),
    ("19550-3", "Methadone [Presence] in Urine by Screen method", S, "methadone", None, True),
    ("66129-8", "Fentanyl+Norfentanyl [Presence] in Urine", S, "fentanyl", None, True),
    ("59673-4", "fentaNYL [Presence] in Urine by Screen method", S, "fentanyl", None, False),
    (
        "38373-7",
        "Buprenorphine+Norbuprenorphine [Presence] in Urine",
        S,
        "buprenorphine",
        None,
        True,
    ),
    (
        "58359-1",
        "Buprenorphine+Norbuprenorphine [Presence] in Urine by Screen method",
        S,
        "buprenorphine",
        None,
        False,
    ),
    (
        "49751-1",
        "Norbuprenorphine [Mass/volume] in Urine by Confirmatory method",
        C,
        "buprenorphine",
        None,
        True,
    ),
    (
        "46973-4",
        "oxyCODONE Free [Mass/volume] in Urine by Confirmatory method",
        C,
        "oxycodone",
        "50",
        True,
    ),
    # Specimen validity measures: kept with the message, the laboratory's own finding
    # (adulterated, substituted, invalid) is what changes the specimen.
    ("2161-8", "Creatinine [Mass/volume] in Urine", INFO, "", None, False),
    ("2965-2", "Specific gravity of Urine", INFO, "", None, False),
    ("2756-5", "pH of Urine", INFO, "", None, False),
]


def load(model: Any) -> int:
    """Add the standard rows ``model`` (the current model, or a migration's historical
    one) lacks; return how many were added."""
    now = timezone.now()
    added = 0
    for code, display, kind, analyte, cutoff, preferred in CODES:
        _, created = model.objects.get_or_create(
            organization=None,
            code=code,
            defaults={
                "display": display,
                "kind": kind,
                "analyte": analyte,
                "default_cutoff": Decimal(cutoff) if cutoff else None,
                "preferred": preferred,
                "created_at": now,
            },
        )
        added += created
    return added


def load_missing(**kwargs: Any) -> None:
    """The ``post_migrate`` receiver."""
    from .models import AnalyteCode

    load(AnalyteCode)
