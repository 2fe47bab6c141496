"""Mend stored dates outside 1900-2199, saved before forms and services bounded them.

Each app's data migration lists its date fields and the safe value for each (a
``DateMend``) and calls :func:`mend_dates` with the migration's ``apps``, so only
historical models are used and no app imports another. Every changed row prints one line
to stdout and chains one ``data.date_mended`` row onto the audit trail (through
``core.audit.append`` with the historical ``AuditEvent``), with the old and new value.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, TextIO

from django.db import models
from django.utils import timezone

from . import audit
from .validators import EARLIEST, LATEST, date_in_range

ACTION = "data.date_mended"


@dataclass(frozen=True)
class DateMend:
    model: str  # "app_label.ModelName"
    field: str
    # The value to store instead, from the row itself; None stores NULL.
    safe_value: Callable[[Any], date | datetime | None]
    why: str
    # Attribute paths of the row's patient and site ids, for the audit row.
    patient: str | None = "patient_id"
    site: str | None = "site_id"


def out_of_range(field: models.Field[Any, Any], name: str) -> models.Q:
    if isinstance(field, models.DateTimeField):
        low: date = datetime.combine(EARLIEST, time(), tzinfo=UTC)
        high: date = datetime.combine(LATEST, time.max, tzinfo=UTC)
    else:
        low, high = EARLIEST, LATEST
    return models.Q(**{f"{name}__lt": low}) | models.Q(**{f"{name}__gt": high})


def _attr(obj: Any, path: str | None) -> Any:
    value = obj
    for part in (path or "").split("."):
        if not part or value is None:
            return None
        value = getattr(value, part)
    return value


def mend_dates(
    apps: Any, mends: Iterable[DateMend], *, migration: str, out: TextIO | None = None
) -> int:
    """Apply each mend in order (a later one may read a field an earlier one mended);
    returns how many values changed."""
    out = out or sys.stdout
    changed = 0
    for mend in mends:
        model = apps.get_model(mend.model)
        field = model._meta.get_field(mend.field)
        for obj in model._default_manager.filter(out_of_range(field, mend.field)).order_by("pk"):
            old = getattr(obj, mend.field)
            new = mend.safe_value(obj)
            if new is not None and not date_in_range(new):
                new = None
            if new is None and not field.null:
                out.write(
                    f"{migration}: {mend.model} #{obj.pk} {mend.field}={old} is out of range "
                    "and has no safe value; left for a person to correct\n"
                )
                continue
            setattr(obj, mend.field, new)
            obj.save(update_fields=[mend.field])
            changed += 1
            report(
                apps,
                migration=migration,
                obj=obj,
                model=mend.model,
                change={"field": mend.field, "old": str(old), "new": str(new)},
                why=mend.why,
                patient_id=obj.pk if mend.patient == "pk" else _attr(obj, mend.patient),
                site_id=_attr(obj, mend.site),
                out=out,
            )
    return changed


def report(
    apps: Any,
    *,
    migration: str,
    obj: models.Model,
    model: str,
    change: dict[str, str],  # field, old, new
    why: str,
    patient_id: int | None,
    site_id: int | None,
    out: TextIO | None = None,
) -> None:
    """One mended row: a line on stdout and a chained audit row. For a migration whose
    mend is more than one field's new value (a session cancelled, say)."""
    what = f"{change['field']} {change['old']} -> {change['new']}"
    (out or sys.stdout).write(f"{migration}: {model} #{obj.pk} {what} ({why})\n")
    audit.append(
        apps.get_model("core", "AuditEvent"),
        at=timezone.now(),
        actor=None,
        actor_label=migration,
        action=ACTION,
        outcome="ok",
        patient_id=patient_id,
        site_id=site_id,
        object_type=model,
        object_id=str(obj.pk),
        ip=None,
        detail={**change, "why": why},
    )
