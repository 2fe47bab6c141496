"""The code table's answer to ``drugtests.loinc.code_for`` (registered in
``LabsConfig.ready``): the preferred standard code of an analyte's screen or
confirmation, else any standard code of it in use. One indexed query a call."""

from __future__ import annotations

from drugtests.loinc import Coding

from .models import AnalyteCode, CodeKind


def code_lookup(analyte: str, confirmation: bool) -> Coding | None:
    kind = CodeKind.CONFIRMATION if confirmation else CodeKind.SCREEN
    # The standard rows only: an organisation's own codes are not what an export names.
    row = (
        AnalyteCode.objects.filter(
            organization__isnull=True, analyte=analyte, kind=kind, is_active=True
        )
        .order_by("-preferred", "code")
        .values_list("code", "display")
        .first()
    )
    return Coding(row[0], row[1]) if row is not None else None
