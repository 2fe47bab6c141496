"""What more than one kind of drug-testing write needs: the fair deadline, decimal
input, and the alerts a finding raises."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from core.models import Site

from ..models import Selection, Specimen, TestAlert, TestingPolicy
from ..selectors import selection_window


def _fair_deadline(policy: TestingPolicy, site: Site, on: date, now: datetime) -> datetime:
    return selection_window(policy, site, on, now)[1]


def _clean_decimal(value: object) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


def _alerts(
    selection: Selection,
    findings: Sequence[tuple[str, str]],
    *,
    specimen: Specimen | None = None,
    now: datetime,
) -> None:
    if not findings:
        return
    # The (selection, kind, analyte) key makes a repeated finding (a lab confirming the
    # cup, a rerun of the deadline job) a no-op instead of a second alert.
    TestAlert.objects.bulk_create(
        [
            TestAlert(
                kind=kind,
                patient_id=selection.patient_id,
                site_id=selection.site_id,
                selection=selection,
                specimen=specimen,
                analyte=analyte,
                created_at=now,
            )
            for kind, analyte in findings
        ],
        ignore_conflicts=True,
    )
