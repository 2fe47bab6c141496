"""The safety follow-up of an answer that raised a SafetyEvent: a staff member records
what they did, once. Two staff recording at the same moment record one follow-up: the
write is a conditional UPDATE of the still-open row, and the second is told it is done."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from core import audit, clock, limits
from core.models import User
from core.signals import safety_followup_recorded

from ..models import SafetyEvent

ALREADY_DONE = "The safety follow-up was already recorded by a colleague."


@transaction.atomic
def safety_followup_record(
    *,
    actor: User,
    event: SafetyEvent,
    action: str,
    note: str,
    now: datetime | None = None,
) -> SafetyEvent:
    now = clock.now(now)
    if action not in SafetyEvent.Action.values:
        raise ValidationError({"action": "Choose what was done."})
    note = note.strip()
    if not note:
        raise ValidationError({"note": "Write what was done and what was agreed."})
    if len(note) > limits.NOTE:
        raise ValidationError({"note": f"At most {limits.NOTE:,} characters."})
    updated = SafetyEvent.objects.filter(pk=event.pk, followup_at__isnull=True).update(
        followup_at=now, followup_by=actor, followup_action=action, followup_note=note
    )
    if updated == 0:
        raise ValidationError(ALREADY_DONE)
    audit.record(
        action="measures.safety_followup_recorded",
        actor=actor,
        patient_id=event.patient_id,
        site_id=event.patient.site_id,
        obj=event,
        detail={"action": action},
        at=now,
    )
    safety_followup_recorded.send(sender=SafetyEvent, patient_ids=[event.patient_id])
    event.refresh_from_db()
    return event
