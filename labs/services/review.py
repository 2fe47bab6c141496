"""What staff do with a message that waits on the review queue: match it to the
specimen it is about, try it again (after the code table gained its code), or close it
with a reason. A message is never deleted; a closed one keeps its bytes and its reason."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from core import audit, clock, limits
from core.models import User
from core.validators import require_plain_text
from drugtests.models import Specimen

from ..models import InboundMessage, InboundObservation
from .inbound import apply_message, mismatches

Status = InboundMessage.Status
State = InboundObservation.State


def _locked(message: InboundMessage) -> InboundMessage:
    return (
        InboundMessage.objects.select_for_update(of=("self",))
        .select_related("interface")
        .get(pk=message.pk)
    )


def _site_id(message: InboundMessage) -> int | None:
    return message.specimen.patient.site_id if message.specimen is not None else None


@transaction.atomic
def message_match(
    *, actor: User, message: InboundMessage, specimen: Specimen, now: datetime | None = None
) -> InboundMessage:
    """Staff say which collected specimen a waiting message is about; its results apply
    (a difference in collection day or patient details is recorded, the person having
    checked it)."""
    now = clock.now(now)
    message = _locked(message)
    if message.status != Status.HELD or message.specimen_id is not None:
        raise ValidationError("This message is not waiting for a specimen.")
    specimen = Specimen.objects.select_related("patient__site").get(pk=specimen.pk)
    if specimen.patient.organization_id != message.interface.organization_id:
        raise ValidationError({"chain_of_custody_id": "No such specimen."})
    differences = mismatches(message, specimen)
    message.specimen = specimen
    message.matched_by = actor
    message.save(update_fields=["specimen", "matched_by"])
    apply_message(message, actor=actor, now=now)
    audit.record(
        action="labs.message_matched",
        actor=actor,
        obj=message,
        patient_id=specimen.patient_id,
        site_id=specimen.patient.site_id,
        detail={"specimen": specimen.pk, "status": message.status, "differences": differences},
        at=now,
    )
    return message


@transaction.atomic
def message_retry(
    *, actor: User, message: InboundMessage, now: datetime | None = None
) -> InboundMessage:
    """Apply what still waits (a code added to the table, a default cut-off given)."""
    now = clock.now(now)
    message = _locked(message)
    if message.status != Status.HELD:
        raise ValidationError("This message is not waiting.")
    apply_message(message, actor=actor, now=now)
    audit.record(
        action="labs.message_retried",
        actor=actor,
        obj=message,
        patient_id=message.specimen.patient_id if message.specimen else None,
        site_id=_site_id(message),
        detail={"status": message.status},
        at=now,
    )
    return message


@transaction.atomic
def message_close(
    *, actor: User, message: InboundMessage, reason: str, now: datetime | None = None
) -> InboundMessage:
    """Close a waiting (or unreadable) message without applying it: not this clinic's,
    a result resent corrected, a test message. Kept, with the reason."""
    now = clock.now(now)
    reason = (reason or "").strip()
    require_plain_text(reason=reason)
    if not reason:
        raise ValidationError({"reason": "Say why the message is closed."})
    if len(reason) > limits.REASON:
        raise ValidationError({"reason": limits.too_long_message(limits.REASON, len(reason))})
    message = _locked(message)
    if message.status not in (Status.HELD, Status.ERROR):
        raise ValidationError("Only a message that waits for review can be closed.")
    message.observations.filter(state__in=[State.HELD, State.ERROR]).update(state=State.CLOSED)
    message.status = Status.CLOSED
    message.closed_at = now
    message.closed_by = actor
    message.close_reason = reason
    message.save(update_fields=["status", "closed_at", "closed_by", "close_reason"])
    audit.record(
        action="labs.message_closed",
        actor=actor,
        obj=message,
        patient_id=message.specimen.patient_id if message.specimen else None,
        site_id=_site_id(message),
        at=now,
    )
    return message
