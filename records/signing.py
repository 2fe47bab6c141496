"""What a signature covers, and the rule every write checks first: signed content is
never changed.

A signature stores the SHA-256 of a canonical JSON of exactly what was signed (the text,
the dates and times, the objectives addressed, the plan's problems, goals, objectives and
interventions), so ``verify_signature`` can show later that the record still reads as it
did when it was signed. The payload names ids and texts, never display formatting, so a
change of a site's clock format does not change a hash.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ValidationError

from core.models import User
from patients.models import Patient

from .models import (
    SECTION_FIELDS,
    Addendum,
    GroupNote,
    PlanGoal,
    PlanIntervention,
    PlanObjective,
    PlanProblem,
    PlanVersion,
    ProgressNote,
    Signature,
    SignatureMethod,
    SignerRole,
)

SIGNED_MESSAGE = "This {what} is signed and can no longer be changed; add an addendum instead."


def refuse_if_signed(obj: PlanVersion | ProgressNote | GroupNote, what: str = "note") -> None:
    """Every service that writes content calls this first (the trigger is the backstop)."""
    if obj.signed_at is not None:
        raise ValidationError(SIGNED_MESSAGE.format(what=what))


def digest(payload: dict[str, Any]) -> str:
    canonical = json.dumps(
        payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _iso(at: datetime | None) -> str | None:
    # In UTC: the same instant read back from the database (UTC) or built in a site's
    # zone must hash the same, or a signature made before a reload would not verify.
    return at.astimezone(UTC).isoformat() if at is not None else None


def plan_version_payload(version: PlanVersion) -> dict[str, Any]:
    """The version's content, read fresh from the database (never a prefetched cache)."""
    problems = list(PlanProblem.objects.filter(version=version).order_by("position", "pk"))
    goals = list(PlanGoal.objects.filter(version=version).order_by("position", "pk"))
    objectives = list(PlanObjective.objects.filter(version=version).order_by("position", "pk"))
    interventions = list(
        PlanIntervention.objects.filter(version=version).order_by("position", "pk")
    )
    return {
        "plan": version.plan_id,
        "version": version.number,
        "kind": version.kind,
        "level": version.level,
        "strengths": version.strengths,
        "preferences": version.preferences,
        "author": version.author_id,
        "problems": [
            {
                "id": p.pk,
                "dimension": p.dimension,
                "description": p.description,
                "goals": [
                    {
                        "id": g.pk,
                        "text": g.text,
                        "objectives": [
                            {
                                "id": o.pk,
                                "text": o.text,
                                "target_date": o.target_date.isoformat(),
                                "status": o.status,
                                "interventions": [
                                    {
                                        "service_type": i.service_type,
                                        "frequency": i.frequency,
                                        "responsible": i.responsible_id,
                                    }
                                    for i in interventions
                                    if i.objective_id == o.pk
                                ],
                            }
                            for o in objectives
                            if o.goal_id == g.pk
                        ],
                    }
                    for g in goals
                    if g.problem_id == p.pk
                ],
            }
            for p in problems
        ],
    }


def note_payload(note: ProgressNote) -> dict[str, Any]:
    objective_ids = sorted(
        note.objectives.through.objects.filter(note=note).values_list("objective_id", flat=True)
    )
    return {
        "note": note.pk,
        "patient": note.patient_id,
        "kind": note.kind,
        "format": note.format,
        "service_type": note.service_type,
        "service_date": note.service_date.isoformat(),
        "starts_at": _iso(note.starts_at),
        "ends_at": _iso(note.ends_at),
        "session": note.session_id,
        "group_note": note.group_note_id,
        "attendance_status": note.attendance_status,
        "minutes": note.minutes,
        "topic": note.topic,
        "shared_text": note.shared_text,
        "sections": {name: getattr(note, name) for name in SECTION_FIELDS},
        "objectives": objective_ids,
        "author": note.author_id,
    }


def group_note_payload(group: GroupNote) -> dict[str, Any]:
    entries = group.entries.order_by("patient_id").values_list("patient_id", "text")
    return {
        "group_note": group.pk,
        "session": group.session_id,
        "topic": group.topic,
        "service_type": group.service_type,
        "shared_text": group.shared_text,
        "entries": [list(e) for e in entries],
        "author": group.author_id,
    }


def addendum_payload(
    *,
    target: PlanVersion | ProgressNote,
    kind: str,
    text: str,
    reason: str,
    author: User,
    at: datetime,
) -> dict[str, Any]:
    return {
        "target": f"{target._meta.label}:{target.pk}",
        "target_hash": target.content_hash,
        "kind": kind,
        "text": text,
        "reason": reason,
        "author": author.pk,
        "written_at": _iso(at),
    }


def author_credentials(user: User) -> str:
    staff = user.staff
    return staff.credentials if staff is not None else ""


def signature_add(
    *,
    target: PlanVersion | ProgressNote,
    role: str,
    method: str,
    at: datetime,
    signer: User | None = None,
    patient: Patient | None = None,
) -> Signature:
    """One signature row over the target's current ``content_hash`` (set by the caller
    when the author signs; unchanged for the co-signer and the patient, who sign the same
    content). The caller holds the transaction and writes the audit row."""
    if role == SignerRole.PATIENT:
        if patient is None:
            raise ValueError("a patient signature names the patient")
        name, credentials = patient.display_name, ""
    else:
        if signer is None:
            raise ValueError("a staff signature names the signer")
        name, credentials = str(signer), author_credentials(signer)
    return Signature.objects.create(
        plan_version=target if isinstance(target, PlanVersion) else None,
        note=target if isinstance(target, ProgressNote) else None,
        role=role,
        method=method,
        signer=signer,
        patient=patient,
        signer_name=name[:150],
        signer_credentials=credentials[:60],
        signed_at=at,
        content_hash=target.content_hash,
    )


def current_hash(target: PlanVersion | ProgressNote) -> str:
    if isinstance(target, PlanVersion):
        return digest(plan_version_payload(target))
    return digest(note_payload(target))


def verify_signature(signature: Signature) -> bool:
    """Whether the signed record still hashes to what its signature covered."""
    target = signature.plan_version or signature.note
    assert target is not None
    return current_hash(target) == signature.content_hash


def addendum_hash(addendum: Addendum) -> str:
    target = addendum.note or addendum.plan_version
    assert target is not None
    return digest(
        addendum_payload(
            target=target,
            kind=addendum.kind,
            text=addendum.text,
            reason=addendum.reason,
            author=addendum.author,
            at=addendum.written_at,
        )
    )


__all__ = [
    "SignatureMethod",
    "SignerRole",
    "addendum_hash",
    "addendum_payload",
    "author_credentials",
    "current_hash",
    "digest",
    "group_note_payload",
    "note_payload",
    "plan_version_payload",
    "refuse_if_signed",
    "signature_add",
    "verify_signature",
]
