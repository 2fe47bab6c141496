"""Medication-assisted treatment: orders, stops and injection due dates."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction

from core import audit
from core.models import User
from core.validators import require_dates_in_range

from ..models import INJECTABLE_MEDICATIONS, Medication, MedicationOrder, Patient


@transaction.atomic
def medication_order_create(
    *,
    actor: User | None,
    patient: Patient,
    medication: str,
    dose: str,
    frequency: str,
    prescriber: str,
    start_date: date,
    next_injection_due: date | None = None,
    other_name: str = "",
    notes: str = "",
) -> MedicationOrder:
    require_dates_in_range(start_date=start_date, next_injection_due=next_injection_due)
    if medication not in Medication.values:
        raise ValidationError({"medication": "Choose a medication."})
    if medication == Medication.OTHER and not other_name.strip():
        raise ValidationError({"other_name": "Name the medication."})
    if next_injection_due is not None and next_injection_due < start_date:
        raise ValidationError(
            {"next_injection_due": "The next injection cannot be due before the order starts."}
        )
    if next_injection_due is not None and medication not in INJECTABLE_MEDICATIONS:
        raise ValidationError(
            {"next_injection_due": "Only injected or implanted medications have an injection due."}
        )
    order = MedicationOrder.objects.create(
        patient=patient,
        medication=medication,
        other_name=other_name,
        dose=dose,
        frequency=frequency,
        prescriber=prescriber,
        start_date=start_date,
        next_injection_due=next_injection_due,
        notes=notes,
        created_by=actor,
    )
    audit.record(
        action="medication.ordered",
        actor=actor,
        patient_id=patient.pk,
        site_id=patient.site_id,
        obj=order,
        detail={"medication": medication},
    )
    return order


@transaction.atomic
def medication_order_stop(
    *, actor: User | None, order: MedicationOrder, stop_date: date, reason: str
) -> MedicationOrder:
    require_dates_in_range(stop_date=stop_date)
    order = (
        MedicationOrder.objects.select_for_update(of=("self",))
        .select_related("patient")
        .get(pk=order.pk)
    )
    if order.stop_date is not None:
        raise ValidationError("This order is already stopped.")
    if stop_date < order.start_date:
        raise ValidationError({"stop_date": "The stop date is before the order started."})
    order.stop_date = stop_date
    order.stop_reason = reason
    order.save(update_fields=["stop_date", "stop_reason"])
    audit.record(
        action="medication.stopped",
        actor=actor,
        patient_id=order.patient_id,
        site_id=order.patient.site_id,
        obj=order,
    )
    return order


@transaction.atomic
def medication_order_set_injection_due(
    *, actor: User | None, order: MedicationOrder, next_injection_due: date
) -> MedicationOrder:
    require_dates_in_range(next_injection_due=next_injection_due)
    order = (
        MedicationOrder.objects.select_for_update(of=("self",))
        .select_related("patient")
        .get(pk=order.pk)
    )
    if order.medication not in INJECTABLE_MEDICATIONS:
        raise ValidationError(
            {"next_injection_due": "Only injected or implanted medications have an injection due."}
        )
    if order.stop_date is not None:
        raise ValidationError("This order was stopped; no injection is due.")
    if next_injection_due < order.start_date:
        raise ValidationError(
            {"next_injection_due": "The next injection cannot be due before the order starts."}
        )
    order.next_injection_due = next_injection_due
    order.save(update_fields=["next_injection_due"])
    audit.record(
        action="medication.injection_due_set",
        actor=actor,
        patient_id=order.patient_id,
        site_id=order.patient.site_id,
        obj=order,
    )
    return order
