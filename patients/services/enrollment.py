"""Writes for patients and enrollments.

Every function is atomic, validates its input (raising ``ValidationError`` with
field names the forms can show), appends the history row, keeps the track roster in
step and writes its audit row, all in one transaction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import IntegrityError, models, transaction

from core import audit, clock
from core.clock import site_today
from core.formats import format_day
from core.models import Organization, Site, User

from ..models import (
    INJECTABLE_MEDICATIONS,
    MINIMUM_AGE,
    OPEN_STATUSES,
    Consent,
    DischargeType,
    Enrollment,
    EnrollmentEvent,
    EnrollmentStatus,
    Medication,
    MedicationOrder,
    Patient,
    ProgramLevel,
    ProgramPhase,
    ScheduledChange,
    Track,
    TrackMembership,
    age_on,
)
from ..signals import track_membership_changed

Kind = EnrollmentEvent.Kind
Change = ScheduledChange.Kind
ChangeStatus = ScheduledChange.Status


class ConcurrentEditError(ValidationError):
    pass


# --- helpers ---------------------------------------------------------------


def _locked(enrollment: Enrollment, expected_version: int | None) -> Enrollment:
    """Lock the row; refuse if someone saved it since the form was rendered."""
    locked = (
        Enrollment.objects.select_for_update(of=("self",))
        .select_related("patient", "site", "track", "phase")
        .get(pk=enrollment.pk)
    )
    if expected_version is not None and locked.version != expected_version:
        raise ConcurrentEditError(
            "Someone else changed this enrollment while you were editing. "
            "Reload the chart and make your change again."
        )
    return locked


def _require_open(enrollment: Enrollment, what: str) -> None:
    if enrollment.status == EnrollmentStatus.DISCHARGED:
        raise ValidationError(f"Cannot {what}: this enrollment was discharged.")


def _require_not_before_admission(enrollment: Enrollment, on: date, field: str) -> None:
    if on < enrollment.admission_date:
        raise ValidationError(
            {
                field: "The date cannot be before admission "
                f"({format_day(enrollment.admission_date)}).",
            }
        )


def _require_not_before_last(
    enrollment: Enrollment, on: date, field: str, kinds: tuple[str, ...] = ()
) -> None:
    """Keep the history in order: a move cannot take effect before the last recorded one
    (of the same kind, or of any kind when ``kinds`` is empty)."""
    events = enrollment.events.all()
    if kinds:
        events = events.filter(kind__in=kinds)
    last = events.order_by("-effective_date").values_list("effective_date", flat=True).first()
    if last is not None and on < last:
        raise ValidationError(
            {field: f"The date cannot be before the last recorded change ({format_day(last)})."}
        )


def _event(
    enrollment: Enrollment,
    kind: str,
    *,
    actor: User | None,
    effective_date: date,
    now: datetime,
    from_value: str = "",
    to_value: str = "",
    reason: str = "",
) -> EnrollmentEvent:
    return EnrollmentEvent.objects.create(
        enrollment=enrollment,
        kind=kind,
        effective_date=effective_date,
        from_value=str(from_value)[:120],
        to_value=str(to_value)[:120],
        reason=reason,
        actor=actor,
        recorded_at=now,
    )


def _audit(action: str, enrollment: Enrollment, actor: User | None, **detail: Any) -> None:
    audit.record(
        action=action,
        actor=actor,
        patient_id=enrollment.patient_id,
        site_id=enrollment.site_id,
        obj=enrollment,
        detail=detail,
    )


def _save(enrollment: Enrollment, *fields: str) -> None:
    enrollment.version += 1
    enrollment.save(update_fields=[*fields, "version"])


def _current_membership(enrollment: Enrollment) -> TrackMembership | None:
    return (
        TrackMembership.objects.select_for_update()
        .filter(enrollment=enrollment, end_date__isnull=True)
        .first()
    )


def _close_membership(enrollment: Enrollment, last_day: date) -> None:
    membership = _current_membership(enrollment)
    if membership is None:
        return
    if last_day < membership.start_date:
        # Superseded before it took effect (e.g. admitted to one track and moved on the
        # same day): it never covered a day, so no roster or attendance refers to it.
        # The move itself stays in the append-only EnrollmentEvent history.
        membership.delete()
    else:
        membership.end_date = last_day
        membership.save(update_fields=["end_date"])
    track_membership_changed.send(
        sender=TrackMembership, enrollment=enrollment, effective_date=last_day + timedelta(days=1)
    )


def _open_membership(enrollment: Enrollment, start: date) -> None:
    if enrollment.track_id is None:
        return
    TrackMembership.objects.create(
        enrollment=enrollment,
        patient_id=enrollment.patient_id,
        track_id=enrollment.track_id,
        start_date=start,
    )
    track_membership_changed.send(
        sender=TrackMembership, enrollment=enrollment, effective_date=start
    )


def _check_track_and_phase(
    site: Site, level: str, track: Track | None, phase: ProgramPhase | None
) -> None:
    errors: dict[str, str] = {}
    if track is not None:
        if track.site_id != site.pk:
            errors["track"] = "That track belongs to another site."
        elif not track.is_active:
            errors["track"] = "That track is no longer running."
        elif track.level != level:
            errors["track"] = (
                f"{track.name} serves {ProgramLevel(track.level).label}, "
                f"not {ProgramLevel(level).label}."
            )
    if phase is not None and phase.site_id != site.pk:
        errors["phase"] = "That phase belongs to another site."
    if errors:
        raise ValidationError(errors)


# --- effective dates ---------------------------------------------------------


def _one_year_after(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 Feb
        return day.replace(year=day.year + 1, day=28)


def _deferred(site: Site, on: date, field: str, now: datetime) -> bool:
    """Whether a change dated ``on`` is still ahead at the site (so it is held, not
    applied). Today means the site's wall calendar: a change dated D at a Los Angeles
    site waits until it is D in Los Angeles, whatever the date is in UTC."""
    today = site_today(site, now)
    limit = _one_year_after(today)
    if on > limit:
        raise ValidationError(
            {field: f"The date is more than a year ahead (the latest is {format_day(limit)})."}
        )
    return on > today


def _stored(value: object) -> object:
    """A service argument as the JSON payload of a scheduled change keeps it."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, date):
        return value.isoformat()
    return value


def _schedule_admission(
    *,
    actor: User | None,
    patient: Patient,
    admission_date: date,
    now: datetime,
    label: str,
    level: str,
    track: Track | None,
    **args: Any,
) -> ScheduledChange:
    """An admission (or re-admission) dated ahead: no episode exists until its date."""
    return _schedule(
        actor=actor,
        kind=Change.ADMISSION,
        patient=patient,
        enrollment=None,
        effective_date=admission_date,
        now=now,
        summary=f"{label} to {ProgramLevel(level).label}"
        + (f", {track.name}" if track is not None else ""),
        level=level,
        track=track,
        **args,
    )


def _schedule(
    *,
    actor: User | None,
    kind: str,
    patient: Patient,
    enrollment: Enrollment | None,
    effective_date: date,
    now: datetime,
    summary: str,
    **arguments: Any,
) -> ScheduledChange:
    change = ScheduledChange.objects.create(
        patient=patient,
        enrollment=enrollment,
        kind=kind,
        effective_date=effective_date,
        payload={name: _stored(value) for name, value in arguments.items()},
        summary=summary[:200],
        created_by=actor,
        created_at=now,
    )
    _audit_change("scheduled_change.created", change, actor)
    return change


def _audit_change(action: str, change: ScheduledChange, actor: User | None, **detail: Any) -> None:
    audit.record(
        action=action,
        actor=actor,
        patient_id=change.patient_id,
        site_id=change.patient.site_id,
        obj=change,
        detail={"kind": change.kind, "effective_date": change.effective_date.isoformat(), **detail},
    )


def _require_no_pending_admission(patient: Patient) -> None:
    upcoming = (
        ScheduledChange.objects.filter(
            patient=patient, kind=Change.ADMISSION, status=ChangeStatus.PENDING
        )
        .values_list("effective_date", flat=True)
        .first()
    )
    if upcoming is not None:
        raise ValidationError(
            {
                "admission_date": f"An admission is already scheduled for {format_day(upcoming)}; "
                "cancel it on the chart first."
            }
        )


# --- patients --------------------------------------------------------------


def _next_mrn(organization: Organization) -> str:
    org = Organization.objects.select_for_update().get(pk=organization.pk)
    while True:
        org.mrn_counter += 1
        mrn = f"{org.mrn_prefix}{org.mrn_counter:06d}"
        if not Patient.objects.filter(organization=org, mrn=mrn).exists():
            break
    org.save(update_fields=["mrn_counter"])
    return mrn


def validate_date_of_birth(born: date, today: date) -> None:
    if born > today:
        raise ValidationError({"date_of_birth": "The date of birth is in the future."})
    if age_on(born, today) < MINIMUM_AGE:
        raise ValidationError(
            {"date_of_birth": f"Patients must be at least {MINIMUM_AGE} years old."}
        )


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


PATIENT_EDITABLE_FIELDS = frozenset(
    {
        "legal_first_name",
        "legal_last_name",
        "preferred_name",
        "date_of_birth",
        "sex",
        "gender_identity",
        "phone",
        "email",
        "preferred_contact",
        "emergency_contact_name",
        "emergency_contact_relationship",
        "emergency_contact_phone",
        "primary_substance",
        "secondary_substance",
        "naloxone_kit_given_on",
        "safety_notes",
    }
)


@transaction.atomic
def patient_update(
    *,
    actor: User | None,
    patient: Patient,
    now: datetime | None = None,
    expected_updated_at: datetime | None = None,
    **changes: Any,
) -> Patient:
    """Change demographics. A form posts the ``updated_at`` it was rendered with: its
    unchanged fields would otherwise silently undo a colleague's save made meanwhile."""
    unknown = set(changes) - PATIENT_EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"not editable here: {sorted(unknown)}")
    patient = (
        Patient.objects.select_for_update(of=("self",)).select_related("site").get(pk=patient.pk)
    )
    if expected_updated_at is not None and patient.updated_at != expected_updated_at:
        raise ConcurrentEditError(
            "Someone else changed this patient's details while you were editing. "
            "Reload the page and make your change again."
        )
    if "date_of_birth" in changes:
        validate_date_of_birth(changes["date_of_birth"], site_today(patient.site, now))
    changed = [f for f, v in changes.items() if getattr(patient, f) != v]
    for field in changed:
        setattr(patient, field, changes[field])
    if changed:
        patient.save(update_fields=[*changed, "updated_at"])
        # Field names only: the audit trail must not become a second copy of the chart.
        audit.record(
            action="patient.updated",
            actor=actor,
            patient_id=patient.pk,
            site_id=patient.site_id,
            obj=patient,
            detail={"fields": sorted(changed)},
        )
    return patient


@transaction.atomic
def patient_link_portal_account(
    *, actor: User | None, patient: Patient, username: str, password: str | None
) -> User:
    if patient.user_id is not None:
        raise ValidationError("This patient already has a portal account.")
    if User.objects.filter(username=username).exists():
        raise ValidationError({"username": "That username is taken."})
    user = User.objects.create_user(
        username=username,
        password=password,
        first_name=patient.preferred_name or patient.legal_first_name,
        last_name=patient.legal_last_name,
        email=patient.email,
    )
    patient.user = user
    patient.save(update_fields=["user", "updated_at"])
    audit.record(
        action="patient.portal_account_created",
        actor=actor,
        patient_id=patient.pk,
        site_id=patient.site_id,
        obj=patient,
    )
    return user


# --- enrollment changes ----------------------------------------------------


@transaction.atomic
def enrollment_change_level(
    *,
    actor: User | None,
    enrollment: Enrollment,
    level: str,
    effective_date: date,
    reason: str,
    track: Track | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Enrollment | ScheduledChange:
    """Step up or down (e.g. IOP 2.1 to OP 1.0). A new level may need a new track."""
    now = clock.now(now)
    enrollment = _locked(enrollment, expected_version)
    _require_open(enrollment, "change the level of care")
    _require_not_before_admission(enrollment, effective_date, "effective_date")
    if level == enrollment.level:
        raise ValidationError({"level": "The patient is already at that level of care."})
    _require_not_before_last(enrollment, effective_date, "effective_date", (Kind.LEVEL,))
    old = ProgramLevel(enrollment.level).label
    new_track: Track | None
    if track is not None:
        new_track = track  # chosen explicitly: it must serve the new level (checked below)
    else:
        new_track = enrollment.track
        if new_track is not None and new_track.level != level:
            new_track = None  # the old track does not serve the new level
    _check_track_and_phase(enrollment.site, level, new_track, None)
    if new_track != enrollment.track:
        _check_track_start(enrollment, effective_date)
    if _deferred(enrollment.site, effective_date, "effective_date", now):
        return _schedule(
            actor=actor,
            kind=Change.LEVEL,
            patient=enrollment.patient,
            enrollment=enrollment,
            effective_date=effective_date,
            now=now,
            summary=f"{old} to {ProgramLevel(level).label}"
            + (f", {new_track.name}" if new_track is not None else ""),
            level=level,
            track=track,
            reason=reason,
        )
    enrollment.level = level
    _save(enrollment, "level")
    _event(
        enrollment,
        Kind.LEVEL,
        actor=actor,
        effective_date=effective_date,
        now=now,
        from_value=old,
        to_value=ProgramLevel(level).label,
        reason=reason,
    )
    if new_track != enrollment.track:
        _switch_track(enrollment, new_track, effective_date, actor=actor, now=now, reason=reason)
    _audit("enrollment.level_changed", enrollment, actor, to=level)
    return enrollment


def _switch_track(
    enrollment: Enrollment,
    track: Track | None,
    effective_date: date,
    *,
    actor: User | None,
    now: datetime,
    reason: str,
) -> None:
    old = enrollment.track
    if enrollment.status == EnrollmentStatus.ACTIVE:
        _close_membership(enrollment, effective_date - timedelta(days=1))
    enrollment.track = track
    _save(enrollment, "track")
    if enrollment.status == EnrollmentStatus.ACTIVE:
        _open_membership(enrollment, effective_date)
    _event(
        enrollment,
        Kind.TRACK,
        actor=actor,
        effective_date=effective_date,
        now=now,
        from_value=old.name if old else "",
        to_value=track.name if track else "",
        reason=reason,
    )


def _check_track_start(enrollment: Enrollment, effective_date: date) -> None:
    # Past roster rows are never rewritten: a move cannot start before the current one.
    current = (
        TrackMembership.objects.filter(enrollment=enrollment, end_date__isnull=True)
        .values_list("start_date", flat=True)
        .first()
    )
    if current is not None and effective_date < current:
        raise ValidationError(
            {"effective_date": f"The current track only started on {format_day(current)}."}
        )


@transaction.atomic
def enrollment_change_track(
    *,
    actor: User | None,
    enrollment: Enrollment,
    track: Track | None,
    effective_date: date,
    reason: str = "",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Enrollment | ScheduledChange:
    """Move to another track from ``effective_date``; earlier rosters stay as they were."""
    now = clock.now(now)
    enrollment = _locked(enrollment, expected_version)
    _require_open(enrollment, "change the track")
    _require_not_before_admission(enrollment, effective_date, "effective_date")
    if track is not None and track.pk == enrollment.track_id:
        raise ValidationError({"track": "The patient is already on that track."})
    _check_track_start(enrollment, effective_date)
    _check_track_and_phase(enrollment.site, enrollment.level, track, None)
    if _deferred(enrollment.site, effective_date, "effective_date", now):
        return _schedule(
            actor=actor,
            kind=Change.TRACK,
            patient=enrollment.patient,
            enrollment=enrollment,
            effective_date=effective_date,
            now=now,
            summary=f"To {track.name if track is not None else 'no track'}",
            track=track,
            reason=reason,
        )
    _switch_track(enrollment, track, effective_date, actor=actor, now=now, reason=reason)
    _audit("enrollment.track_changed", enrollment, actor, to=track.pk if track else None)
    return enrollment


@transaction.atomic
def enrollment_change_phase(
    *,
    actor: User | None,
    enrollment: Enrollment,
    phase: ProgramPhase,
    effective_date: date,
    reason: str = "",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Enrollment | ScheduledChange:
    now = clock.now(now)
    enrollment = _locked(enrollment, expected_version)
    _require_open(enrollment, "change the phase")
    _require_not_before_admission(enrollment, effective_date, "effective_date")
    if phase.pk == enrollment.phase_id:
        raise ValidationError({"phase": "The patient is already in that phase."})
    _require_not_before_last(enrollment, effective_date, "effective_date", (Kind.PHASE,))
    _check_track_and_phase(enrollment.site, enrollment.level, None, phase)
    if _deferred(enrollment.site, effective_date, "effective_date", now):
        return _schedule(
            actor=actor,
            kind=Change.PHASE,
            patient=enrollment.patient,
            enrollment=enrollment,
            effective_date=effective_date,
            now=now,
            summary=f"To {phase.name}",
            phase=phase,
            reason=reason,
        )
    old = enrollment.phase.name if enrollment.phase else ""
    enrollment.phase = phase
    _save(enrollment, "phase")
    _event(
        enrollment,
        Kind.PHASE,
        actor=actor,
        effective_date=effective_date,
        now=now,
        from_value=old,
        to_value=phase.name,
        reason=reason,
    )
    _audit("enrollment.phase_changed", enrollment, actor, to=phase.number)
    return enrollment


def _check_counselor(counselor: User, site_id: int) -> None:
    staff = counselor.staff
    if staff is None or not counselor.is_active:
        raise ValidationError({"counselor": "Choose an active staff member."})
    if not staff.sees_all_sites and not staff.sites.filter(pk=site_id).exists():
        raise ValidationError({"counselor": "That counselor does not work at this site."})


@transaction.atomic
def enrollment_change_counselor(
    *,
    actor: User | None,
    enrollment: Enrollment,
    counselor: User,
    effective_date: date,
    reason: str = "",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Enrollment | ScheduledChange:
    now = clock.now(now)
    enrollment = _locked(enrollment, expected_version)
    _require_open(enrollment, "change the counselor")
    _require_not_before_admission(enrollment, effective_date, "effective_date")
    _require_not_before_last(enrollment, effective_date, "effective_date", (Kind.COUNSELOR,))
    _check_counselor(counselor, enrollment.site_id)
    if _deferred(enrollment.site, effective_date, "effective_date", now):
        return _schedule(
            actor=actor,
            kind=Change.COUNSELOR,
            patient=enrollment.patient,
            enrollment=enrollment,
            effective_date=effective_date,
            now=now,
            summary=f"To {counselor}",
            counselor=counselor,
            reason=reason,
        )
    patient = Patient.objects.select_for_update().get(pk=enrollment.patient_id)
    if patient.primary_counselor_id == counselor.pk:
        raise ValidationError({"counselor": "That is already the primary counselor."})
    old = str(patient.primary_counselor) if patient.primary_counselor_id else ""
    patient.primary_counselor = counselor
    patient.save(update_fields=["primary_counselor", "updated_at"])
    _save(enrollment)
    _event(
        enrollment,
        Kind.COUNSELOR,
        actor=actor,
        effective_date=effective_date,
        now=now,
        from_value=old,
        to_value=str(counselor),
        reason=reason,
    )
    _audit("enrollment.counselor_changed", enrollment, actor, to=counselor.pk)
    return enrollment


@transaction.atomic
def enrollment_hold(
    *,
    actor: User | None,
    enrollment: Enrollment,
    effective_date: date,
    reason: str,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Enrollment | ScheduledChange:
    """Pause attendance (e.g. a hospital stay): off rosters and out of the draw pool."""
    now = clock.now(now)
    enrollment = _locked(enrollment, expected_version)
    _require_open(enrollment, "put on hold")
    if enrollment.status == EnrollmentStatus.ON_HOLD:
        raise ValidationError("This enrollment is already on hold.")
    _require_not_before_admission(enrollment, effective_date, "effective_date")
    _require_not_before_last(enrollment, effective_date, "effective_date")
    if not reason.strip():
        raise ValidationError({"reason": "Say why the enrollment is on hold."})
    if _deferred(enrollment.site, effective_date, "effective_date", now):
        return _schedule(
            actor=actor,
            kind=Change.HOLD,
            patient=enrollment.patient,
            enrollment=enrollment,
            effective_date=effective_date,
            now=now,
            summary="On hold",
            reason=reason,
        )
    _close_membership(enrollment, effective_date - timedelta(days=1))
    enrollment.status = EnrollmentStatus.ON_HOLD
    _save(enrollment, "status")
    _event(
        enrollment,
        Kind.ON_HOLD,
        actor=actor,
        effective_date=effective_date,
        now=now,
        from_value="Active",
        to_value="On hold",
        reason=reason,
    )
    _audit("enrollment.on_hold", enrollment, actor)
    return enrollment


@transaction.atomic
def enrollment_resume(
    *,
    actor: User | None,
    enrollment: Enrollment,
    effective_date: date,
    reason: str = "",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Enrollment | ScheduledChange:
    now = clock.now(now)
    enrollment = _locked(enrollment, expected_version)
    if enrollment.status != EnrollmentStatus.ON_HOLD:
        raise ValidationError("Only an enrollment on hold can be resumed.")
    last_hold = enrollment.events.filter(kind=Kind.ON_HOLD).order_by("-effective_date").first()
    if last_hold and effective_date < last_hold.effective_date:
        raise ValidationError(
            {"effective_date": f"The hold began on {format_day(last_hold.effective_date)}."}
        )
    if _deferred(enrollment.site, effective_date, "effective_date", now):
        return _schedule(
            actor=actor,
            kind=Change.RESUME,
            patient=enrollment.patient,
            enrollment=enrollment,
            effective_date=effective_date,
            now=now,
            summary="Back from hold",
            reason=reason,
        )
    enrollment.status = EnrollmentStatus.ACTIVE
    _save(enrollment, "status")
    _open_membership(enrollment, effective_date)
    _event(
        enrollment,
        Kind.RESUMED,
        actor=actor,
        effective_date=effective_date,
        now=now,
        from_value="On hold",
        to_value="Active",
        reason=reason,
    )
    _audit("enrollment.resumed", enrollment, actor)
    return enrollment


@transaction.atomic
def enrollment_discharge(
    *,
    actor: User | None,
    enrollment: Enrollment,
    discharge_date: date,
    discharge_type: str,
    aftercare_plan: str,
    note: str = "",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Enrollment | ScheduledChange:
    now = clock.now(now)
    enrollment = _locked(enrollment, expected_version)
    _require_open(enrollment, "discharge")
    if discharge_date < enrollment.admission_date:
        raise ValidationError(
            {
                "discharge_date": "The discharge date is before admission "
                f"({format_day(enrollment.admission_date)})."
            }
        )
    _require_not_before_last(enrollment, discharge_date, "discharge_date")
    if discharge_type not in DischargeType.values:
        raise ValidationError({"discharge_type": "Choose a discharge type."})
    if not aftercare_plan.strip() and discharge_type != DischargeType.DECEASED:
        raise ValidationError({"aftercare_plan": "Every discharge needs an aftercare plan."})
    if _deferred(enrollment.site, discharge_date, "discharge_date", now):
        return _schedule(
            actor=actor,
            kind=Change.DISCHARGE,
            patient=enrollment.patient,
            enrollment=enrollment,
            effective_date=discharge_date,
            now=now,
            summary=DischargeType(discharge_type).label,
            discharge_type=discharge_type,
            aftercare_plan=aftercare_plan,
            note=note,
        )
    if enrollment.status == EnrollmentStatus.ACTIVE:
        _close_membership(enrollment, discharge_date)
    enrollment.status = EnrollmentStatus.DISCHARGED
    enrollment.discharge_date = discharge_date
    enrollment.discharge_type = discharge_type
    enrollment.aftercare_plan = aftercare_plan
    enrollment.discharge_note = note
    _save(
        enrollment, "status", "discharge_date", "discharge_type", "aftercare_plan", "discharge_note"
    )
    _event(
        enrollment,
        Kind.DISCHARGED,
        actor=actor,
        effective_date=discharge_date,
        now=now,
        to_value=DischargeType(discharge_type).label,
        reason=note,
    )
    _audit("enrollment.discharged", enrollment, actor, type=discharge_type)
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


# --- applying and cancelling scheduled changes -------------------------------------

# kind -> (the service that applies it, the name of its date argument)
_APPLIERS: dict[str, tuple[Callable[..., Enrollment | ScheduledChange], str]] = {
    Change.ADMISSION: (enrollment_readmit, "admission_date"),
    Change.LEVEL: (enrollment_change_level, "effective_date"),
    Change.TRACK: (enrollment_change_track, "effective_date"),
    Change.PHASE: (enrollment_change_phase, "effective_date"),
    Change.COUNSELOR: (enrollment_change_counselor, "effective_date"),
    Change.HOLD: (enrollment_hold, "effective_date"),
    Change.RESUME: (enrollment_resume, "effective_date"),
    Change.DISCHARGE: (enrollment_discharge, "discharge_date"),
}


def _loaded(name: str, value: Any) -> Any:
    """A payload value (as stored in JSON) turned back into the argument the service takes."""
    if value is None:
        return None
    if name == "track":
        return Track.objects.get(pk=value)
    if name == "phase":
        return ProgramPhase.objects.get(pk=value)
    if name == "counselor":
        return User.objects.get(pk=value)
    if name == "expected_end_date":
        return date.fromisoformat(value)
    return value


def _apply(change: ScheduledChange, now: datetime) -> Enrollment:
    service, date_argument = _APPLIERS[change.kind]
    arguments = {name: _loaded(name, value) for name, value in change.payload.items()}
    arguments[date_argument] = change.effective_date
    if change.kind == Change.ADMISSION:
        arguments["patient"] = change.patient
    else:
        arguments["enrollment"] = change.enrollment
    result = service(actor=change.created_by, now=now, **arguments)
    if not isinstance(result, Enrollment):  # only a date still ahead is deferred
        raise ValidationError("The change is not due yet.")
    return result


# Durable: the claim below only keeps a second worker out once it is committed, and each
# change must commit (or fail) on its own; inside a caller's transaction neither holds.
@transaction.atomic(durable=True)
def scheduled_change_apply(*, change_id: int, now: datetime | None = None) -> str:
    """Apply one due change through the service an immediate change uses.

    The row is claimed by a conditional UPDATE (pending to applied) before anything is
    applied, so a second run, a redelivered message or a concurrent worker finds nothing
    to claim. A change the service refuses (e.g. the track closed meanwhile) is marked
    failed, with the service's reason, for staff to see on the chart.
    """
    now = clock.now(now)
    change = (
        ScheduledChange.objects.select_related("patient__site", "enrollment", "created_by")
        .filter(pk=change_id)
        .first()
    )
    if change is None or change.status != ChangeStatus.PENDING:
        return "skipped"
    if change.effective_date > site_today(change.patient.site, now):
        return "not_due"
    claimed = ScheduledChange.objects.filter(pk=change.pk, status=ChangeStatus.PENDING).update(
        status=ChangeStatus.APPLIED, applied_at=now
    )
    if not claimed:
        return "skipped"
    try:
        with transaction.atomic():
            enrollment = _apply(change, now)
    except (ValidationError, ObjectDoesNotExist) as exc:
        reason = "; ".join(getattr(exc, "messages", None) or [str(exc)])
        ScheduledChange.objects.filter(pk=change.pk).update(
            status=ChangeStatus.FAILED, failure=reason
        )
        _audit_change("scheduled_change.failed", change, None, reason=reason)
        return "failed"
    if change.kind == Change.ADMISSION:
        ScheduledChange.objects.filter(pk=change.pk).update(enrollment=enrollment)
    _audit_change("scheduled_change.applied", change, None)
    return "applied"


def scheduled_changes_apply_due(*, now: datetime | None = None) -> dict[str, int]:
    """Apply every change whose date has come at its own site.

    Not one transaction: each change is applied (or fails) on its own, so one refusal
    does not hold back the rest.
    """
    now = clock.now(now)
    # No zone is a day ahead of UTC's date; the exact cut is made per site below.
    horizon = now.astimezone(UTC).date() + timedelta(days=1)
    due = ScheduledChange.objects.filter(status=ChangeStatus.PENDING, effective_date__lte=horizon)
    outcomes = Counter({"applied": 0, "failed": 0, "skipped": 0})
    site_ids = set(due.values_list("patient__site_id", flat=True))
    for site in Site.objects.filter(pk__in=site_ids):
        ids = (
            due.filter(patient__site=site, effective_date__lte=site_today(site, now))
            .order_by("effective_date", "created_at", "pk")
            .values_list("pk", flat=True)
        )
        for change_id in list(ids):
            outcomes[scheduled_change_apply(change_id=change_id, now=now)] += 1
    return dict(outcomes)


CANCEL_REASON_MAX = 500


@transaction.atomic
def scheduled_change_cancel(
    *, actor: User | None, change: ScheduledChange, reason: str, now: datetime | None = None
) -> ScheduledChange:
    """Withdraw an upcoming (or failed) change; it is kept, with who, when and why."""
    now = clock.now(now)
    if not reason.strip():
        raise ValidationError({"reason": "Say why the change is cancelled."})
    if len(reason) > CANCEL_REASON_MAX or "\x00" in reason:
        raise ValidationError(
            {"reason": f"Keep the reason to {CANCEL_REASON_MAX} characters of plain text."}
        )
    cancelled = ScheduledChange.objects.filter(
        pk=change.pk, status__in=(ChangeStatus.PENDING, ChangeStatus.FAILED)
    ).update(
        status=ChangeStatus.CANCELLED, cancelled_by=actor, cancelled_at=now, cancel_reason=reason
    )
    if not cancelled:
        raise ValidationError("This change was already applied or cancelled.")
    change = ScheduledChange.objects.select_related("patient").get(pk=change.pk)
    _audit_change("scheduled_change.cancelled", change, actor, reason=reason)
    return change


# --- medication-assisted treatment ----------------------------------------


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


# --- 42 CFR Part 2 consents -----------------------------------------------


@transaction.atomic
def consent_create(
    *,
    actor: User | None,
    patient: Patient,
    recipient: str,
    purpose: str,
    information_disclosed: str,
    signed_on: date,
    expires_on: date | None = None,
) -> Consent:
    for field, value in (("recipient", recipient), ("purpose", purpose)):
        if not value.strip():
            raise ValidationError({field: "This field is required."})
    if not information_disclosed.strip():
        raise ValidationError({"information_disclosed": "Say what may be disclosed."})
    if expires_on is not None and expires_on < signed_on:
        raise ValidationError({"expires_on": "The consent cannot expire before it was signed."})
    consent = Consent.objects.create(
        patient=patient,
        recipient=recipient,
        purpose=purpose,
        information_disclosed=information_disclosed,
        signed_on=signed_on,
        expires_on=expires_on,
        created_by=actor,
    )
    audit.record(
        action="consent.recorded",
        actor=actor,
        patient_id=patient.pk,
        site_id=patient.site_id,
        obj=consent,
    )
    return consent


@transaction.atomic
def consent_revoke(*, actor: User | None, consent: Consent, revoked_on: date) -> Consent:
    consent = (
        Consent.objects.select_for_update(of=("self",)).select_related("patient").get(pk=consent.pk)
    )
    if consent.revoked_on is not None:
        raise ValidationError("This consent was already revoked.")
    if revoked_on < consent.signed_on:
        raise ValidationError({"revoked_on": "A consent cannot be revoked before it was signed."})
    consent.revoked_on = revoked_on
    consent.save(update_fields=["revoked_on"])
    audit.record(
        action="consent.revoked",
        actor=actor,
        patient_id=consent.patient_id,
        site_id=consent.patient.site_id,
        obj=consent,
    )
    return consent
