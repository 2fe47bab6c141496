"""The director's schedules page: every schedule row of one site saved at once."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import transaction

from core.models import Site, User

from ..models import MeasureSchedule
from .schedules import schedule_update


@transaction.atomic
def site_schedules_update(
    *,
    actor: User,
    site: Site,
    values: Mapping[int, Mapping[str, Any]],
    now: datetime | None = None,
) -> list[MeasureSchedule]:
    """``values`` maps a schedule id of ``site`` to its every_days, at_admission,
    at_discharge and is_active; each changed row is audited (``schedule_update``), and
    one refused row leaves every row as it was."""
    rows = MeasureSchedule.objects.filter(site=site, pk__in=list(values)).order_by("pk")
    return [
        schedule_update(
            actor=actor,
            schedule_row=row,
            every_days=int(values[row.pk]["every_days"]),
            at_admission=bool(values[row.pk]["at_admission"]),
            at_discharge=bool(values[row.pk]["at_discharge"]),
            is_active=bool(values[row.pk]["is_active"]),
            now=now,
        )
        for row in rows
    ]
