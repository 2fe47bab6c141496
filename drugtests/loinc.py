"""LOINC codes of the drug-test analytes, for results coming in (HL7 from a lab) and going
out (FHIR Observations).

The codes here are the ones the field's notes name (CLINICAL.md); the labs app keeps the
full mapping, which a director extends, and answers through ``code_for`` as well (it is
filled in ``AppConfig.ready()``). An analyte without a code is exported with its name
only, never with a guessed code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from .models import Analyte


class Coding(NamedTuple):
    code: str
    display: str


LOINC_SYSTEM = "http://loinc.org"

# (analyte, confirmation?) -> LOINC
KNOWN: dict[tuple[str, bool], Coding] = {
    (Analyte.COCAINE, False): Coding("3393-6", "Benzoylecgonine [Presence] in Urine"),
    (Analyte.COCAINE, True): Coding(
        "14315-6", "Benzoylecgonine [Mass/volume] in Urine by Confirmatory method"
    ),
    (Analyte.BUPRENORPHINE, False): Coding(
        "38373-7", "Buprenorphine+Norbuprenorphine [Presence] in Urine"
    ),
    (Analyte.FENTANYL, False): Coding("66129-8", "Fentanyl+Norfentanyl [Presence] in Urine"),
}

# A higher app (labs) may answer from its mapping table first.
_lookups: list[Callable[[str, bool], Coding | None]] = []


def register_lookup(lookup: Callable[[str, bool], Coding | None]) -> None:
    if lookup not in _lookups:
        _lookups.append(lookup)


def code_for(analyte: str, *, confirmation: bool = False) -> Coding | None:
    """The LOINC code for an analyte's screen (or confirmation) result, or None."""
    for lookup in _lookups:
        found = lookup(analyte, confirmation)
        if found is not None:
            return found
    return KNOWN.get((analyte, confirmation))
