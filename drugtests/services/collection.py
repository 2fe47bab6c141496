"""For-cause orders, specimen collection (within the test's window) and refusals."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from core import audit, clock, limits
from core.clock import site_today
from core.formats import format_when
from core.models import Site, User
from core.validators import require_dates_in_range, require_plain_text
from patients.models import Patient
from patients.selectors import current_enrollment

from ..label_ids import looks_like_label_id, selection_pk_of
from ..models import (
    COLLECTOR_VALIDITY,
    INVALID_VALIDITY,
    Method,
    Outcome,
    Selection,
    Specimen,
    SpecimenType,
    TestAlert,
    TestingPolicy,
)
from ..selectors import active_policies, draw_day, notice_at, policy_for, selection_window
from ..signals import selection_outcome_changed
from ._common import _alerts, _clean_decimal, _fair_deadline


def _clean_reason(reason: str, field: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({field: "A for-cause test needs a reason."})
    if "\x00" in reason:
        raise ValidationError({field: "The reason contains a character that is not allowed."})
    # A for-cause reason is a sentence or a short paragraph, not a document.
    if len(reason) > limits.REASON:
        raise ValidationError(
            {field: f"Keep the reason under {limits.REASON} characters ({len(reason)} given)."}
        )
    return reason


def _policy_for_patient(patient: Patient) -> TestingPolicy:
    enrollment = current_enrollment(patient)
    by_phase, default = active_policies(patient.site)
    policy = policy_for(enrollment.phase_id if enrollment else None, by_phase, default)
    if policy is None:
        raise ValidationError("The site has no testing policy for this patient; add one first.")
    return policy


@transaction.atomic
def for_cause_order(
    *, actor: User, patient: Patient, reason: str, now: datetime | None = None
) -> Selection:
    """A clinician's for-cause test: labelled, never part of the random statistics."""
    now = clock.now(now)
    reason = _clean_reason(reason, "reason")
    policy = _policy_for_patient(patient)
    # Ordered after hours, the test is for the next clinic day, like a late draw.
    on = draw_day(patient.site, now)
    return _for_cause_create(
        actor=actor,
        patient=patient,
        policy=policy,
        reason=reason,
        on=on,
        deadline=_fair_deadline(policy, patient.site, on, now),
        now=now,
    )


def _for_cause_create(
    *,
    actor: User,
    patient: Patient,
    policy: TestingPolicy,
    reason: str,
    on: date,
    deadline: datetime,
    now: datetime,
) -> Selection:
    selection = Selection.objects.create(
        patient=patient,
        site=patient.site,
        date=on,
        kind=Selection.Kind.FOR_CAUSE,
        policy=policy,
        reason=reason,
        ordered_by=actor,
        deadline=deadline,
        created_at=now,
    )
    audit.record(
        action="drugtests.for_cause_ordered",
        actor=actor,
        patient_id=patient.pk,
        site_id=patient.site_id,
        obj=selection,
    )
    return selection


@transaction.atomic
def specimen_collect(
    *,
    actor: User,
    selection: Selection | None = None,
    patient: Patient | None = None,
    for_cause_reason: str = "",
    chain_of_custody_id: str,
    method: str,
    observed: bool,
    specimen_type: str = "",
    temperature_in_range: bool | None = None,
    validity: str = "",
    creatinine_mg_dl: Decimal | str | None = None,
    specific_gravity: Decimal | str | None = None,
    ph: Decimal | str | None = None,
    oxidants_detected: bool | None = None,
    notes: str = "",
    collected_at: datetime | None = None,
    now: datetime | None = None,
) -> Specimen:
    """Record a collected specimen against a selection (or a new for-cause order)."""
    now = clock.now(now)
    collected_at = collected_at or now
    # Before any conversion to the site's clock, which overflows on year 1.
    require_dates_in_range(collected_at=collected_at)
    require_plain_text(chain_of_custody_id=chain_of_custody_id, notes=notes)
    walk_in = False
    if selection is None:
        if patient is None:
            raise ValidationError({"patient": "Choose the patient."})
        on = site_today(patient.site, now)
        selection = Selection.objects.filter(
            patient=patient, date=on, status=Selection.Status.PENDING
        ).first()
        if selection is None:
            if not for_cause_reason.strip():
                raise ValidationError(
                    {
                        "for_cause_reason": "This patient was not selected for testing today. "
                        "Enter it as a for-cause test and give the reason."
                    }
                )
            reason = _clean_reason(for_cause_reason, "for_cause_reason")
            _check_walk_in_time(patient.site, collected_at, now)
            policy = _policy_for_patient(patient)
            # The specimen is in hand: the order is for today whatever the hour, and its
            # deadline is never before the collection it records.
            _, deadline = selection_window(policy, patient.site, on, now)
            selection = _for_cause_create(
                actor=actor,
                patient=patient,
                policy=policy,
                reason=reason,
                on=on,
                deadline=max(deadline, now),
                now=now,
            )
            walk_in = True
    selection = (
        Selection.objects.select_for_update(of=("self",))
        .select_related("policy", "site")
        .get(pk=selection.pk)
    )
    if selection.status != Selection.Status.PENDING:
        raise ValidationError(
            f"This test is {selection.get_status_display().lower()}; nothing to collect."
        )
    policy = selection.policy
    specimen_type = specimen_type or policy.specimen_type
    errors = {}
    if collected_at > now:
        errors["collected_at"] = "The collection time is in the future."
    elif not walk_in:
        window_error = _outside_window(selection, collected_at)
        if window_error:
            errors["collected_at"] = window_error
    if method not in Method.values:
        errors["method"] = "Choose point-of-care or laboratory."
    if specimen_type not in SpecimenType.values:
        errors["specimen_type"] = "Choose a specimen type."
    if validity and validity not in COLLECTOR_VALIDITY:
        errors["validity"] = "Choose a validity outcome."
    if policy.observed_required and not observed:
        errors["observed"] = "This patient's policy requires an observed collection."
    if specimen_type == SpecimenType.URINE and temperature_in_range is None:
        errors["temperature_in_range"] = "Record whether the temperature was 90-100 °F."
    if temperature_in_range is False and not validity:
        errors["validity"] = (
            "The temperature was out of range: record the validity outcome "
            "(valid, dilute, adulterated or substituted)."
        )
    coc = (chain_of_custody_id or "").strip()
    if not coc:
        errors["chain_of_custody_id"] = "Enter the chain-of-custody form id."
    elif looks_like_label_id(coc) and selection_pk_of(coc) is None:
        errors["chain_of_custody_id"] = (
            f"{coc} is not a label id this clinic printed (its check digit is wrong): "
            "scan the label or type it again."
        )
    elif looks_like_label_id(coc) and selection_pk_of(coc) != selection.pk:
        # A cup must not carry the label printed for another patient's (or day's) test.
        errors["chain_of_custody_id"] = (
            f"Label {coc} was printed for another test: use the label printed for this one."
        )
    elif Specimen.objects.filter(chain_of_custody_id=coc).exists():
        errors["chain_of_custody_id"] = f"Chain-of-custody id {coc} is already used."
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            specimen = Specimen.objects.create(
                selection=selection,
                patient_id=selection.patient_id,
                collected_by=actor,
                collected_at=collected_at,
                specimen_type=specimen_type,
                observed=observed,
                temperature_in_range=temperature_in_range,
                creatinine_mg_dl=_clean_decimal(creatinine_mg_dl),
                specific_gravity=_clean_decimal(specific_gravity),
                ph=_clean_decimal(ph),
                oxidants_detected=oxidants_detected,
                validity=validity,
                chain_of_custody_id=coc,
                method=method,
                notes=notes,
            )
    except IntegrityError as exc:  # a concurrent collection took the same id
        raise ValidationError(
            {"chain_of_custody_id": f"Chain-of-custody id {coc} is already used."}
        ) from exc
    selection.status = Selection.Status.COLLECTED
    selection.status_changed_at = now
    fields = ["status", "status_changed_at"]
    if validity in INVALID_VALIDITY:
        selection.outcome = Outcome.INVALID
        fields.append("outcome")
        _alerts(selection, [(TestAlert.Kind.INVALID_SPECIMEN, "")], specimen=specimen, now=now)
    selection.save(update_fields=fields)
    if validity in INVALID_VALIDITY:
        selection_outcome_changed.send(sender=Selection, selection_ids=[selection.pk])
    audit.record(
        action="drugtests.specimen_collected",
        actor=actor,
        patient_id=selection.patient_id,
        site_id=selection.site_id,
        obj=specimen,
        detail={"selection": selection.pk, "method": method, "validity": validity},
    )
    return specimen


def _local_label(instant: datetime, site: Site) -> str:
    return format_when(instant, year=False, tz=site.tz, h24=site.clock_24h)


def _outside_window(selection: Selection, collected_at: datetime) -> str:
    """Why a collection time cannot belong to this test ('' when it can)."""
    site = selection.site
    notice = notice_at(selection)
    if collected_at < notice:
        return (
            f"The collection time is before this test's notice ({_local_label(notice, site)}); "
            "a specimen collected earlier cannot be this test's."
        )
    if collected_at > selection.deadline:
        return (
            f"The collection time is after this test's deadline "
            f"({_local_label(selection.deadline, site)})."
        )
    return ""


def _check_walk_in_time(site: Site, collected_at: datetime, now: datetime) -> None:
    # A walk-in's for-cause order is recorded with its collection: same site-local day.
    if collected_at > now:
        raise ValidationError({"collected_at": "The collection time is in the future."})
    if site_today(site, collected_at) != site_today(site, now):
        raise ValidationError(
            {"collected_at": "A walk-in for-cause collection is recorded on the day it is given."}
        )


@transaction.atomic
def selection_refuse(
    *, actor: User, selection: Selection, note: str = "", now: datetime | None = None
) -> Selection:
    now = clock.now(now)
    updated = Selection.objects.filter(pk=selection.pk, status=Selection.Status.PENDING).update(
        status=Selection.Status.REFUSED, outcome=Outcome.REFUSED, status_changed_at=now
    )
    if not updated:
        raise ValidationError("Only a pending test can be recorded as refused.")
    selection.refresh_from_db()
    selection_outcome_changed.send(sender=Selection, selection_ids=[selection.pk])
    audit.record(
        action="drugtests.refused",
        actor=actor,
        patient_id=selection.patient_id,
        site_id=selection.site_id,
        obj=selection,
    )
    return selection
