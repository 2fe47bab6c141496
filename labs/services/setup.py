"""The code table (which observation code reports which analyte, at which stage) and the
laboratories' interfaces with their tokens. Director's work; each change audited."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from core import audit, clock
from core.models import User
from core.validators import require_plain_text
from drugtests.models import Analyte

from ..models import ANALYTE_KINDS, AnalyteCode, CodeKind, InboundMessage, LabInterface
from ..tokens import token_hash, token_new
from .inbound import apply_message

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")


@transaction.atomic
def code_save(
    *,
    actor: User,
    instance: AnalyteCode | None = None,
    code: str,
    display: str = "",
    kind: str,
    analyte: str = "",
    default_cutoff: Decimal | None = None,
    is_active: bool = True,
    now: datetime | None = None,
) -> tuple[AnalyteCode, int]:
    """Add a code to the director's organisation's table, or change one of its rows (the
    standard rows are the application's); then the results of the organisation that
    waited for it apply. Returns the row and how many messages were tried again."""
    now = clock.now(now)
    staff = actor.staff
    if staff is None:
        raise ValidationError("Only clinic staff change the code table.")
    if instance is not None and instance.organization_id != staff.organization_id:
        raise ValidationError("Only your organisation's own codes can be changed here.")
    code = (code or "").strip()
    display = (display or "").strip()
    require_plain_text(code=code, display=display)
    errors = {}
    own = AnalyteCode.objects.filter(organization_id=staff.organization_id, code=code)
    if instance is not None and code != instance.code:
        errors["code"] = "A code cannot be renamed: add the new one and set this one inactive."
    elif not _CODE.match(code):
        errors["code"] = "A code is letters, digits, dots and dashes (e.g. 19295-5)."
    elif (own.exclude(pk=instance.pk) if instance is not None else own).exists():
        errors["code"] = f"{code} is already in your table."
    if len(display) > 200:
        errors["display"] = "Keep the name under 200 characters."
    if kind not in CodeKind.values:
        errors["kind"] = "Choose what the code reports."
    elif kind in ANALYTE_KINDS and analyte not in Analyte.values:
        errors["analyte"] = "Choose the analyte."
    elif kind not in ANALYTE_KINDS:
        analyte = ""
    if default_cutoff is not None and default_cutoff < 0:
        errors["default_cutoff"] = "A cut-off cannot be negative."
    if errors:
        raise ValidationError(errors)
    row = instance or AnalyteCode(
        organization_id=staff.organization_id, code=code, created_at=now, created_by=actor
    )
    before = {f: getattr(row, f) for f in _FIELDS} if instance is not None else {}
    row.display, row.kind, row.analyte = display, kind, analyte
    row.default_cutoff, row.is_active = default_cutoff, is_active
    row.save()
    changed = sorted(f for f in _FIELDS if before.get(f) != getattr(row, f)) if before else []
    tried = _apply_waiting(actor, row, now) if is_active else []
    audit.record(
        action="labs.code_changed" if instance is not None else "labs.code_added",
        actor=actor,
        obj=row,
        detail={"code": row.code, "fields": changed, "messages_tried": tried},
        at=now,
    )
    return row, len(tried)


_FIELDS = ("display", "kind", "analyte", "default_cutoff", "is_active")


def _apply_waiting(actor: User, row: AnalyteCode, now: datetime) -> list[int]:
    staff = actor.staff
    if staff is None:
        return []
    waiting = list(
        InboundMessage.objects.filter(
            status=InboundMessage.Status.HELD,
            specimen__isnull=False,
            interface__organization_id=staff.organization_id,
            observations__state="held",
            observations__code=row.code,
        )
        .select_related("interface")
        .distinct()
        .order_by("received_at", "pk")
    )
    for message in waiting:
        apply_message(message, actor=actor, now=now)
    return [m.pk for m in waiting]


def _clean_interface(organization_id: int, name: str, facility: str, pk: int | None) -> None:
    require_plain_text(name=name, sending_facility=facility)
    errors = {}
    if not name:
        errors["name"] = "Name the laboratory."
    elif len(name) > 120:
        errors["name"] = "Keep the name under 120 characters."
    elif (
        LabInterface.objects.filter(organization_id=organization_id, name=name)
        .exclude(pk__in=[pk] if pk is not None else [])
        .exists()
    ):
        errors["name"] = "Another interface has that name."
    if len(facility) > 120:
        errors["sending_facility"] = "Keep it under 120 characters."
    if errors:
        raise ValidationError(errors)


def _new_token(interface: LabInterface, now: datetime) -> str:
    token = token_new()
    interface.token_hash = token_hash(token)
    interface.token_issued_at = now
    return token


@transaction.atomic
def interface_create(
    *, actor: User, name: str, sending_facility: str = "", now: datetime | None = None
) -> tuple[LabInterface, str]:
    """A laboratory's interface for the director's organisation, and its first token
    (returned once: only its hash is kept)."""
    now = clock.now(now)
    staff = actor.staff
    if staff is None:
        raise ValidationError("Only clinic staff add laboratories.")
    name, sending_facility = (name or "").strip(), (sending_facility or "").strip()
    _clean_interface(staff.organization_id, name, sending_facility, None)
    interface = LabInterface(
        organization_id=staff.organization_id,
        name=name,
        sending_facility=sending_facility,
        created_at=now,
    )
    token = _new_token(interface, now)
    interface.save()
    audit.record(action="labs.interface_added", actor=actor, obj=interface, at=now)
    return interface, token


@transaction.atomic
def interface_update(
    *,
    actor: User,
    interface: LabInterface,
    name: str,
    sending_facility: str = "",
    is_active: bool = True,
    now: datetime | None = None,
) -> LabInterface:
    now = clock.now(now)
    name, sending_facility = (name or "").strip(), (sending_facility or "").strip()
    _clean_interface(interface.organization_id, name, sending_facility, interface.pk)
    interface = LabInterface.objects.select_for_update().get(pk=interface.pk)
    before = (interface.name, interface.sending_facility, interface.is_active)
    interface.name, interface.sending_facility = name, sending_facility
    interface.is_active = is_active
    interface.save(update_fields=["name", "sending_facility", "is_active"])
    audit.record(
        action="labs.interface_changed",
        actor=actor,
        obj=interface,
        detail={"active": is_active, "changed": before != (name, sending_facility, is_active)},
        at=now,
    )
    return interface


@transaction.atomic
def interface_token_issue(
    *, actor: User, interface: LabInterface, now: datetime | None = None
) -> str:
    """A new token for the interface; the old one stops working at once."""
    now = clock.now(now)
    interface = LabInterface.objects.select_for_update().get(pk=interface.pk)
    token = _new_token(interface, now)
    interface.save(update_fields=["token_hash", "token_issued_at"])
    audit.record(action="labs.interface_token_issued", actor=actor, obj=interface, at=now)
    return token
