"""Episodes of care begin here: intake (a new patient and their first enrollment) and
re-admission, either now or scheduled for a date ahead."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from core import audit, clock
from core.clock import site_today
from core.formats import format_day
from core.models import Organization, Site, User

from ..models import (
    OPEN_STATUSES,
    Enrollment,
    EnrollmentEvent,
    Patient,
    ProgramLevel,
    ProgramPhase,
    ScheduledChange,
    Track,
)
from ._common import _audit, _check_counselor, _check_track_and_phase, _event, _open_membership
from ._deferral import _deferred, _require_no_pending_admission, _schedule_admission
from .patient import contact_details_clean, validate_date_of_birth

Kind = EnrollmentEvent.Kind


def _next_mrn(organization: Organization) -> str:
    org = Organization.objects.select_for_update().get(pk=organization.pk)
    while True:
        org.mrn_counter += 1
        mrn = f"{org.mrn_prefix}{org.mrn_counter:06d}"
        if not Patient.objects.filter(organization=org, mrn=mrn).exists():
            break
    org.save(update_fields=["mrn_counter"])
    return mrn


@transaction.atomic
def patient_admit(
    *,
    actor: User | None,
    site: Site,
    legal_first_name: str,
    legal_last_name: str,
    date_of_birth: date,
    primary_substance: str,
    level: str,
    admission_date: date,
    track: Track | None = None,
    phase: ProgramPhase | None = None,
    counselor: User | None = None,
    expected_end_date: date | None = None,
    referral_source: str = "self",
    referral_note: str = "",
    mrn: str = "",
    now: datetime | None = None,
    **demographics: Any,
) -> Enrollment | ScheduledChange:
    """Intake: create the patient and their first enrollment in one step. A future
    admission date creates the patient and schedules the admission instead."""
    now = clock.now(now)
    validate_date_of_birth(date_of_birth, site_today(site, now))
    contact_details_clean(site, demographics)
    if expected_end_date is not None and expected_end_date < admission_date:
        raise ValidationError({"expected_end_date": "The expected end is before admission."})
    _check_track_and_phase(site, level, track, phase)
    deferred = _deferred(site, admission_date, "admission_date", now)
    organization = site.organization
    if mrn:
        if Patient.objects.filter(organization=organization, mrn=mrn).exists():
            raise ValidationError({"mrn": f"MRN {mrn} already belongs to another patient."})
    else:
        mrn = _next_mrn(organization)
    try:
        with transaction.atomic():
            patient = Patient.objects.create(
                organization=organization,
                site=site,
                mrn=mrn,
                legal_first_name=legal_first_name,
                legal_last_name=legal_last_name,
                date_of_birth=date_of_birth,
                primary_substance=primary_substance,
                primary_counselor=counselor,
                **demographics,
            )
    except IntegrityError as exc:  # a concurrent intake took the same MRN
        raise ValidationError({"mrn": f"MRN {mrn} already belongs to another patient."}) from exc
    if deferred:
        # The patient exists (the chart, the caseload) but no episode of care does until
        # the date: nothing that counts enrollments can count this one early.
        change = _schedule_admission(
            actor=actor,
            patient=patient,
            admission_date=admission_date,
            now=now,
            label="Admission",
            level=level,
            track=track,
            phase=phase,
            expected_end_date=expected_end_date,
            referral_source=referral_source,
            referral_note=referral_note,
        )
        audit.record(
            action="patient.created",
            actor=actor,
            patient_id=patient.pk,
            site_id=site.pk,
            obj=patient,
        )
        return change
    enrollment = _enrollment_open(
        actor=actor,
        patient=patient,
        site=site,
        level=level,
        track=track,
        phase=phase,
        admission_date=admission_date,
        expected_end_date=expected_end_date,
        referral_source=referral_source,
        referral_note=referral_note,
        now=now,
    )
    audit.record(
        action="patient.created", actor=actor, patient_id=patient.pk, site_id=site.pk, obj=patient
    )
    return enrollment


def _enrollment_open(
    *,
    actor: User | None,
    patient: Patient,
    site: Site,
    level: str,
    track: Track | None,
    phase: ProgramPhase | None,
    admission_date: date,
    now: datetime,
    **extra: Any,
) -> Enrollment:
    try:
        with transaction.atomic():
            enrollment = Enrollment.objects.create(
                patient=patient,
                site=site,
                level=level,
                track=track,
                phase=phase,
                admission_date=admission_date,
                **extra,
            )
    except IntegrityError as exc:
        raise ValidationError(
            "This patient already has an open enrollment; discharge it before re-admitting."
        ) from exc
    _event(
        enrollment,
        Kind.ADMITTED,
        actor=actor,
        effective_date=admission_date,
        now=now,
        to_value=ProgramLevel(level).label,
    )
    if track is not None:
        _event(
            enrollment,
            Kind.TRACK,
            actor=actor,
            effective_date=admission_date,
            now=now,
            to_value=track.name,
        )
    if phase is not None:
        _event(
            enrollment,
            Kind.PHASE,
            actor=actor,
            effective_date=admission_date,
            now=now,
            to_value=phase.name,
        )
    _open_membership(enrollment, admission_date)
    _audit("enrollment.admitted", enrollment, actor, level=level)
    return enrollment


@transaction.atomic
def enrollment_readmit(
    *,
    actor: User | None,
    patient: Patient,
    level: str,
    admission_date: date,
    track: Track | None = None,
    phase: ProgramPhase | None = None,
    expected_end_date: date | None = None,
    referral_source: str = "self",
    referral_note: str = "",
    counselor: User | None = None,
    now: datetime | None = None,
) -> Enrollment | ScheduledChange:
    """A new episode of care; the earlier ones are kept as they were."""
    now = clock.now(now)
    patient = Patient.objects.select_for_update().select_related("site").get(pk=patient.pk)
    if patient.enrollments.filter(status__in=OPEN_STATUSES).exists():
        raise ValidationError(
            "This patient already has an open enrollment; discharge it before re-admitting."
        )
    last = patient.enrollments.order_by("-discharge_date").first()
    if last is not None and last.discharge_date and admission_date < last.discharge_date:
        raise ValidationError(
            {
                "admission_date": "Re-admission cannot be before the last discharge "
                f"({format_day(last.discharge_date)})."
            }
        )
    if expected_end_date is not None and expected_end_date < admission_date:
        raise ValidationError({"expected_end_date": "The expected end is before admission."})
    _check_track_and_phase(patient.site, level, track, phase)
    if counselor is not None:
        _check_counselor(counselor, patient.site_id)
    _require_no_pending_admission(patient)
    if _deferred(patient.site, admission_date, "admission_date", now):
        return _schedule_admission(
            actor=actor,
            patient=patient,
            admission_date=admission_date,
            now=now,
            label="Re-admission",
            level=level,
            track=track,
            phase=phase,
            expected_end_date=expected_end_date,
            referral_source=referral_source,
            referral_note=referral_note,
            counselor=counselor,
        )
    enrollment = _enrollment_open(
        actor=actor,
        patient=patient,
        site=patient.site,
        level=level,
        track=track,
        phase=phase,
        admission_date=admission_date,
        expected_end_date=expected_end_date,
        referral_source=referral_source,
        referral_note=referral_note,
        now=now,
    )
    if counselor is not None and counselor.pk != patient.primary_counselor_id:
        old = str(patient.primary_counselor) if patient.primary_counselor_id else ""
        patient.primary_counselor = counselor
        patient.save(update_fields=["primary_counselor", "updated_at"])
        _event(
            enrollment,
            Kind.COUNSELOR,
            actor=actor,
            effective_date=admission_date,
            now=now,
            from_value=old,
            to_value=str(counselor),
        )
    return enrollment
