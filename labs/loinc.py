"""The code table's answer to ``drugtests.loinc.code_for`` (registered in
``LabsConfig.ready``): the preferred standard code of an analyte's screen or
confirmation, else any standard code of it.

Answered from the standard rows' own source (``standard_codes.CODES``) rather than the
table: those rows are loaded from it and change only with it (a migration), and an
export asks once per analyte, so a query each time would make a bundle's query count
grow with the panel. An organisation's own codes are not what an export names."""

from __future__ import annotations

from functools import cache

from drugtests.loinc import Coding

from .models import CodeKind
from .standard_codes import CODES


@cache
def _standard() -> dict[tuple[str, str], Coding]:
    best: dict[tuple[str, str], Coding] = {}
    # Preferred first, then by code: the order the table's query used.
    for code, display, kind, analyte, _cutoff, _preferred in sorted(
        CODES, key=lambda row: (not row[5], row[0])
    ):
        best.setdefault((analyte, kind), Coding(code, display))
    return best


def code_lookup(analyte: str, confirmation: bool) -> Coding | None:
    kind = CodeKind.CONFIRMATION if confirmation else CodeKind.SCREEN
    return _standard().get((analyte, str(kind)))
