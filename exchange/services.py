"""Writes of the FHIR export: each Bundle that leaves Stepwise is recorded.

A download by the patient, or one staff make at the patient's request, is a disclosure
to the patient (privacy's accounting lists it, 42 CFR 2.23 and 2.24); the command line's
export, whose recipient Stepwise cannot know, leaves an audit row."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from django.db import transaction
from django.http import HttpRequest

from core import audit, clock
from core.models import User
from patients.models import Patient
from privacy.models import Disclosure
from privacy.services import disclosure_to_patient_record

from .fhir import Resource, patient_bundle
from .selectors import patient_record

# What a reader of the accounting of disclosures sees for each kind of resource.
CONTENT_LABELS = {
    "EpisodeOfCare": "episodes of care",
    "Encounter": "sessions attended",
    "Specimen": "drug-test specimens",
    "Observation": "results and scores",
    "QuestionnaireResponse": "check-ins",
    "MedicationStatement": "medications",
    "Consent": "consents",
    "CarePlan": "treatment plans",
}


def bundle_summary(bundle: Resource) -> str:
    """The Bundle's contents in words, e.g. for the accounting of disclosures."""
    counts = Counter(entry["resource"]["resourceType"] for entry in bundle["entry"])
    parts = [f"{counts[kind]} {label}" for kind, label in CONTENT_LABELS.items() if counts[kind]]
    held = ", ".join(parts) if parts else "demographics only"
    return f"The patient's record as a FHIR R4B Bundle (machine-readable): {held}."


def _detail(bundle: Resource) -> dict[str, Any]:
    return {"bundle": bundle["id"], "entries": len(bundle["entry"])}


@transaction.atomic
def bundle_disclose(
    *,
    actor: User,
    patient: Patient,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> tuple[Resource, Disclosure]:
    """The patient's Bundle, given to the patient (``actor`` is the patient downloading
    it, or the staff member making it at their request), with its disclosure row and
    audit row in one transaction."""
    now = clock.now(now)
    bundle = patient_bundle(patient_record(patient), now=now)
    disclosure = disclosure_to_patient_record(
        actor=actor,
        patient=patient,
        information_disclosed=bundle_summary(bundle),
        request=request,
        now=now,
    )
    audit.record(
        action="exchange.bundle_disclosed",
        actor=actor,
        request=request,
        patient_id=patient.pk,
        site_id=patient.site_id,
        obj=disclosure,
        detail=_detail(bundle) | {"by": "patient" if actor.pk == patient.user_id else "staff"},
        at=now,
    )
    return bundle, disclosure


@transaction.atomic
def bundle_export(*, patient: Patient, label: str, now: datetime | None = None) -> Resource:
    """The patient's Bundle for the command line (``label`` names it in the audit trail)."""
    now = clock.now(now)
    bundle = patient_bundle(patient_record(patient), now=now)
    audit.record(
        action="exchange.bundle_exported",
        actor_label=label,
        patient_id=patient.pk,
        site_id=patient.site_id,
        obj=patient,
        detail=_detail(bundle),
        at=now,
    )
    return bundle
