"""Mending text stored before the length limits (``core.limits``): each app's
``text_limits`` migration runs ``mend_overlong_text`` before adding its constraints."""

from __future__ import annotations

import sys

from django.apps.registry import Apps
from django.db import models
from django.db.models.functions import Length

# The real chain writer: a historical model cannot compute the audit trail's HMAC.
from . import audit
from .limits import limited_fields

TRUNCATION_MARKER = "[truncated: full text kept in audit #{id}]"


def _patient_id(row: models.Model) -> int | None:
    if row._meta.label == "patients.Patient":
        pk: int = row.pk
        return pk
    value = getattr(row, "patient_id", None)
    if value is None:
        for link in ("enrollment", "assignment", "selection", "specimen", "result"):
            related = getattr(row, link, None)
            if related is not None:
                return _patient_id(related)
    return value


def mend_overlong_text(apps: Apps, app_label: str) -> int:
    """Cut every stored value longer than its field's limit, before the constraint is added.

    Clinical text is never lost: the full original goes into an audit row (the trail is
    append-only and HMAC-chained), and the field ends with a marker naming that row. Run
    from each app's ``text_limits`` migration, after its ``AlterField``s (the historical
    models then carry the limits) and before its ``AddConstraint``s. It writes the audit
    row through ``core.audit.record``, i.e. the current ``AuditEvent`` model, which is why
    those migrations depend on core's ``text_limits`` migration. Returns how many values it
    changed, and says which on standard output.
    """
    changed = 0
    for model in apps.get_app_config(app_label).get_models():
        for field in limited_fields(model):
            limit = field.max_length
            assert limit is not None
            rows = model._base_manager.annotate(_len=Length(field.name)).filter(_len__gt=limit)
            for row in rows.order_by("pk").iterator():
                original: str = getattr(row, field.attname)
                event = audit.record(
                    action="text.truncated",
                    actor_label="migration",
                    patient_id=_patient_id(row),
                    obj=row,
                    detail={
                        "field": field.name,
                        "length": len(original),
                        "limit": limit,
                        "original": original,
                    },
                )
                marker = " " + TRUNCATION_MARKER.format(id=event.pk)
                mended = original[: limit - len(marker)] + marker
                model._base_manager.filter(pk=row.pk).update(**{field.attname: mended})
                changed += 1
                sys.stdout.write(
                    f"\n  {model._meta.label} #{row.pk} {field.name}: {len(original):,} "
                    f"characters cut to {limit:,}; the original is in audit #{event.pk}"
                )
    return changed
