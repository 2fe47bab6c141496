"""Treatment plans: start, edit a draft version part by part, sign, have the patient sign,
and start a review (a new draft version copied from the latest signed one).

Who does what (CLINICAL.md, "Treatment plans"):
- any clinician who may see the patient starts the plan or a review, and becomes the
  draft's author;
- only the draft's author edits and signs it: a signature says "I wrote this", so a
  colleague who wants to change a draft starts from the signed version at the next review
  (or the author hands over by signing);
- the patient signs after the clinician, at the clinic (portal password or a one-time
  code sent to their phone) or in the portal;
- an unlicensed author's signed version waits for a licensed clinician's countersignature
  (``services.signoff.record_cosign``).

Every content write calls ``refuse_if_signed`` first; the PostgreSQL trigger of migration
0002 is the backstop.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import date, datetime, timedelta
from hashlib import sha256
from typing import TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model

from core import clock, limits
from core.models import User
from core.phones import phone_can_text
from core.validators import MAX_DAYS_AHEAD, require_dates_in_range, require_plain_text
from patients.models import Enrollment, EnrollmentEvent, Patient

from ..models import (
    AsamDimension,
    ObjectiveStatus,
    PlanGoal,
    PlanIntervention,
    PlanObjective,
    PlanProblem,
    PlanVersion,
    PlanVersionKind,
    RecordStatus,
    ServiceType,
    SignatureMethod,
    SignerRole,
    SigningCode,
    TreatmentPlan,
)
from ..signals import signing_code_issued
from ..signing import (
    author_credentials,
    digest,
    plan_version_payload,
    refuse_if_signed,
    signature_add,
)
from ._common import audit_write, require_clinician

PlanPartModel = PlanProblem | PlanGoal | PlanObjective | PlanIntervention
_Part = TypeVar("_Part", PlanProblem, PlanGoal, PlanObjective, PlanIntervention)

SIGNING_CODE_MINUTES = 10
SIGNING_CODE_ATTEMPTS = 5
# An objective's target date: not long before the version was started (a copied
# objective may be overdue and is then revised), and within about a year of it.
TARGET_DAYS_BEFORE = 31
FREQUENCY_MAX = 80


def _site_id(version: PlanVersion) -> int:
    return version.plan.enrollment.site_id


def _patient(version: PlanVersion) -> Patient:
    return version.plan.patient


def _audit(
    action: str, actor: User | None, version: PlanVersion, obj: Model, **detail: object
) -> None:
    audit_write(
        f"records.plan.{action}",
        actor=actor,
        patient_id=version.plan.patient_id,
        site_id=_site_id(version),
        obj=obj,
        version=version.pk,
        **detail,
    )


def _locked_draft(actor: User, version: PlanVersion) -> PlanVersion:
    """The version re-read under a row lock, checked to be a draft the actor writes."""
    require_clinician(actor, _patient(version))
    locked = (
        PlanVersion.objects.select_for_update(of=("self",))
        .select_related("plan__enrollment", "plan__patient")
        .get(pk=version.pk)
    )
    refuse_if_signed(locked, "plan version")
    if locked.author_id != actor.pk:
        raise ValidationError("Only the author of this draft edits it.")
    return locked


def _text(name: str, value: str, limit: int, *, required: bool = True, label: str = "") -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({name: f"Write the {label or name}."})
    if len(value) > limit:
        raise ValidationError({name: limits.too_long_message(limit, len(value))})
    require_plain_text(**{name: value})
    return value


# --- starting a plan ----------------------------------------------------------------------


@transaction.atomic
def plan_start(*, actor: User, enrollment: Enrollment, now: datetime | None = None) -> PlanVersion:
    """The episode's treatment plan and its first draft version (initial, at the episode's
    level). A second call for the same episode is refused."""
    now = clock.now(now)
    require_clinician(actor, enrollment.patient)
    if not enrollment.is_open:
        raise ValidationError("This episode of care is closed; a plan belongs to an open one.")
    plan, created = TreatmentPlan.objects.get_or_create(
        enrollment=enrollment, defaults={"patient": enrollment.patient, "created_at": now}
    )
    if not created and PlanVersion.objects.filter(plan=plan).exists():
        raise ValidationError("This episode already has a plan; open it to continue.")
    version = PlanVersion.objects.create(
        plan=plan,
        number=1,
        kind=PlanVersionKind.INITIAL,
        level=enrollment.level,
        author=actor,
        created_at=now,
        updated_at=now,
    )
    _audit("started", actor, version, version, number=1)
    return version


@transaction.atomic
def plan_version_update(
    *,
    actor: User,
    version: PlanVersion,
    strengths: str,
    preferences: str,
    now: datetime | None = None,
) -> PlanVersion:
    now = clock.now(now)
    version = _locked_draft(actor, version)
    version.strengths = _text("strengths", strengths, limits.NOTE, required=False)
    version.preferences = _text("preferences", preferences, limits.NOTE, required=False)
    version.updated_at = now
    version.save(update_fields=["strengths", "preferences", "updated_at"])
    _audit("edited", actor, version, version)
    return version


# --- the parts of a draft -----------------------------------------------------------------


def _touch(version: PlanVersion, now: datetime) -> None:
    version.updated_at = now
    version.save(update_fields=["updated_at"])


def _next_position(model: type[PlanPartModel], version: PlanVersion) -> int:
    last = model.objects.filter(version=version).order_by("-position").first()
    return (last.position + 1) if last is not None else 0


def _check_dimension(dimension: int) -> int:
    try:
        value = int(dimension)
    except (TypeError, ValueError):
        value = 0
    if value not in AsamDimension.values:
        raise ValidationError({"dimension": "Choose an ASAM dimension (1 to 6)."})
    return value


def _check_target(version: PlanVersion, target_date: date | None) -> date:
    if target_date is None:
        raise ValidationError({"target_date": "Give the objective a target date."})
    require_dates_in_range(target_date=target_date)
    started = clock.site_today(version.plan.enrollment.site, version.created_at)
    earliest = started - timedelta(days=TARGET_DAYS_BEFORE)
    latest = started + timedelta(days=MAX_DAYS_AHEAD)
    if not earliest <= target_date <= latest:
        raise ValidationError(
            {
                "target_date": (
                    f"Choose a target date between {earliest:%b %-d, %Y} and "
                    f"{latest:%b %-d, %Y}: an objective is measured within the year of its plan."
                )
            }
        )
    return target_date


def _check_status(status: str) -> str:
    if status not in ObjectiveStatus.values:
        raise ValidationError({"status": "Choose a status."})
    return status


def _check_intervention(
    version: PlanVersion, service_type: str, frequency: str, responsible: User | None
) -> tuple[str, str]:
    if service_type not in ServiceType.values:
        raise ValidationError({"service_type": "Choose a service type."})
    frequency = _text("frequency", frequency, FREQUENCY_MAX)
    if responsible is not None:
        staff = responsible.staff
        site_id = _site_id(version)
        works_here = (
            staff is not None
            and responsible.is_active
            and staff.organization_id == version.plan.patient.organization_id
            and (staff.sees_all_sites or staff.sites.filter(pk=site_id).exists())
        )
        if not works_here:
            raise ValidationError({"responsible": "Choose a staff member of the patient's site."})
    return service_type, frequency


def _parent(model: type[_Part], version: PlanVersion, pk: int | None, what: str) -> _Part:
    found = model.objects.filter(version=version, pk=pk).first() if pk else None
    if found is None:
        raise ValidationError(f"No such {what} in this draft.")
    return found


@transaction.atomic
def plan_problem_add(
    *,
    actor: User,
    version: PlanVersion,
    dimension: int,
    description: str,
    now: datetime | None = None,
) -> PlanProblem:
    now = clock.now(now)
    version = _locked_draft(actor, version)
    problem = PlanProblem.objects.create(
        version=version,
        position=_next_position(PlanProblem, version),
        dimension=_check_dimension(dimension),
        description=_text("description", description, limits.REASON, label="problem"),
    )
    _touch(version, now)
    _audit("problem_added", actor, version, problem)
    return problem


@transaction.atomic
def plan_goal_add(
    *,
    actor: User,
    version: PlanVersion,
    problem_id: int | None,
    text: str,
    now: datetime | None = None,
) -> PlanGoal:
    now = clock.now(now)
    version = _locked_draft(actor, version)
    problem = _parent(PlanProblem, version, problem_id, "problem")
    goal = PlanGoal.objects.create(
        version=version,
        problem=problem,
        position=_next_position(PlanGoal, version),
        text=_text("text", text, limits.REASON, label="goal in the patient's words"),
    )
    _touch(version, now)
    _audit("goal_added", actor, version, goal)
    return goal


@transaction.atomic
def plan_objective_add(
    *,
    actor: User,
    version: PlanVersion,
    goal_id: int | None,
    text: str,
    target_date: date | None,
    status: str = ObjectiveStatus.ACTIVE,
    now: datetime | None = None,
) -> PlanObjective:
    now = clock.now(now)
    version = _locked_draft(actor, version)
    goal = _parent(PlanGoal, version, goal_id, "goal")
    objective = PlanObjective.objects.create(
        version=version,
        goal=goal,
        position=_next_position(PlanObjective, version),
        text=_text("text", text, limits.REASON, label="measurable objective"),
        target_date=_check_target(version, target_date),
        status=_check_status(status),
    )
    _touch(version, now)
    _audit("objective_added", actor, version, objective)
    return objective


@transaction.atomic
def plan_intervention_add(
    *,
    actor: User,
    version: PlanVersion,
    objective_id: int | None,
    service_type: str,
    frequency: str,
    responsible: User | None,
    now: datetime | None = None,
) -> PlanIntervention:
    now = clock.now(now)
    version = _locked_draft(actor, version)
    objective = _parent(PlanObjective, version, objective_id, "objective")
    service_type, frequency = _check_intervention(version, service_type, frequency, responsible)
    intervention = PlanIntervention.objects.create(
        version=version,
        objective=objective,
        position=_next_position(PlanIntervention, version),
        service_type=service_type,
        frequency=frequency,
        responsible=responsible,
    )
    _touch(version, now)
    _audit("intervention_added", actor, version, intervention)
    return intervention


@transaction.atomic
def plan_problem_update(
    *,
    actor: User,
    problem: PlanProblem,
    dimension: int,
    description: str,
    now: datetime | None = None,
) -> PlanProblem:
    now = clock.now(now)
    version = _locked_draft(actor, problem.version)
    problem.dimension = _check_dimension(dimension)
    problem.description = _text("description", description, limits.REASON, label="problem")
    problem.save(update_fields=["dimension", "description"])
    _touch(version, now)
    _audit("problem_edited", actor, version, problem)
    return problem


@transaction.atomic
def plan_goal_update(
    *, actor: User, goal: PlanGoal, text: str, now: datetime | None = None
) -> PlanGoal:
    now = clock.now(now)
    version = _locked_draft(actor, goal.version)
    goal.text = _text("text", text, limits.REASON, label="goal in the patient's words")
    goal.save(update_fields=["text"])
    _touch(version, now)
    _audit("goal_edited", actor, version, goal)
    return goal


@transaction.atomic
def plan_objective_update(
    *,
    actor: User,
    objective: PlanObjective,
    text: str,
    target_date: date | None,
    status: str,
    now: datetime | None = None,
) -> PlanObjective:
    now = clock.now(now)
    version = _locked_draft(actor, objective.version)
    objective.text = _text("text", text, limits.REASON, label="measurable objective")
    objective.target_date = _check_target(version, target_date)
    objective.status = _check_status(status)
    objective.save(update_fields=["text", "target_date", "status"])
    _touch(version, now)
    _audit("objective_edited", actor, version, objective)
    return objective


@transaction.atomic
def plan_intervention_update(
    *,
    actor: User,
    intervention: PlanIntervention,
    service_type: str,
    frequency: str,
    responsible: User | None,
    now: datetime | None = None,
) -> PlanIntervention:
    now = clock.now(now)
    version = _locked_draft(actor, intervention.version)
    service_type, frequency = _check_intervention(version, service_type, frequency, responsible)
    intervention.service_type = service_type
    intervention.frequency = frequency
    intervention.responsible = responsible
    intervention.save(update_fields=["service_type", "frequency", "responsible"])
    _touch(version, now)
    _audit("intervention_edited", actor, version, intervention)
    return intervention


@transaction.atomic
def plan_part_remove(*, actor: User, part: PlanPartModel, now: datetime | None = None) -> None:
    """Remove a part of a draft with everything under it (a problem takes its goals,
    their objectives and interventions). Only a draft: a signed version's parts are part
    of what was signed."""
    now = clock.now(now)
    version = _locked_draft(actor, part.version)
    if isinstance(part, PlanProblem):
        goals = PlanGoal.objects.filter(problem=part)
        objectives = PlanObjective.objects.filter(goal__problem=part)
        interventions = PlanIntervention.objects.filter(objective__goal__problem=part)
    elif isinstance(part, PlanGoal):
        goals = PlanGoal.objects.filter(pk=part.pk)
        objectives = PlanObjective.objects.filter(goal=part)
        interventions = PlanIntervention.objects.filter(objective__goal=part)
    elif isinstance(part, PlanObjective):
        goals = PlanGoal.objects.none()
        objectives = PlanObjective.objects.filter(pk=part.pk)
        interventions = PlanIntervention.objects.filter(objective=part)
    else:
        goals = PlanGoal.objects.none()
        objectives = PlanObjective.objects.none()
        interventions = PlanIntervention.objects.filter(pk=part.pk)
    detail = {"kind": type(part).__name__, "text": str(part)}
    # Children first: every foreign key between parts protects its target.
    interventions.delete()
    objectives.delete()
    goals.delete()
    if isinstance(part, PlanProblem):
        PlanProblem.objects.filter(pk=part.pk).delete()
    _touch(version, now)
    _audit("part_removed", actor, version, version, **detail)


# --- signing -----------------------------------------------------------------------------


def _require_complete(version: PlanVersion) -> None:
    """At least one problem with a goal and a measurable objective."""
    complete = PlanObjective.objects.filter(
        version=version, goal__problem__version=version
    ).exists()
    if not complete:
        raise ValidationError(
            "A plan needs at least one problem with a goal and a measurable objective "
            "before it is signed."
        )


@transaction.atomic
def plan_sign(*, actor: User, version: PlanVersion, now: datetime | None = None) -> PlanVersion:
    """The author signs the draft: the content hash, the credentials as they are today,
    whether a countersignature is needed, the signature row and the audit row."""
    now = clock.now(now)
    version = _locked_draft(actor, version)
    _require_complete(version)
    staff = actor.staff
    version.content_hash = digest(plan_version_payload(version))
    version.signed_at = now
    version.status = RecordStatus.SIGNED
    version.requires_cosign = staff is None or staff.requires_cosign
    version.author_credentials = author_credentials(actor)[:60]
    version.updated_at = now
    version.save(
        update_fields=[
            "content_hash",
            "signed_at",
            "status",
            "requires_cosign",
            "author_credentials",
            "updated_at",
        ]
    )
    signature_add(
        target=version, role=SignerRole.AUTHOR, method=SignatureMethod.SESSION, at=now, signer=actor
    )
    _audit("signed", actor, version, version, requires_cosign=version.requires_cosign)
    return version


def _patient_signable(version: PlanVersion) -> None:
    if version.signed_at is None:
        raise ValidationError("The clinician signs the plan first; then the patient signs it.")
    if version.patient_signed_at is not None:
        raise ValidationError("The patient has already signed this plan.")


def _record_patient_signature(
    version: PlanVersion, *, method: str, now: datetime, actor: User | None
) -> PlanVersion:
    # Conditional: two signings at once give one signature and one refusal.
    updated = PlanVersion.objects.filter(
        pk=version.pk, signed_at__isnull=False, patient_signed_at__isnull=True
    ).update(patient_signed_at=now)
    if updated != 1:
        raise ValidationError("The patient has already signed this plan.")
    version.refresh_from_db()
    patient = _patient(version)
    signature_add(target=version, role=SignerRole.PATIENT, method=method, at=now, patient=patient)
    _audit("patient_signed", actor, version, version, method=method)
    return version


def _staff_version(actor: User, version: PlanVersion) -> PlanVersion:
    require_clinician(actor, _patient(version))
    return PlanVersion.objects.select_related("plan__enrollment__site", "plan__patient__user").get(
        pk=version.pk
    )


def _code_hash(code: str, version_id: int) -> str:
    key = f"records.signing_code:{settings.SECRET_KEY}".encode()
    return hmac.new(key, f"{version_id}:{code}".encode(), sha256).hexdigest()


@transaction.atomic
def signing_code_issue(
    *, actor: User, version: PlanVersion, now: datetime | None = None
) -> SigningCode:
    """A six-digit code, valid 10 minutes for 5 tries, sent to the patient's phone (by
    notifications, through ``signals.signing_code_issued``); only its keyed hash is kept.
    Issuing a new code retires the ones before it."""
    now = clock.now(now)
    version = _staff_version(actor, version)
    _patient_signable(version)
    patient = _patient(version)
    if not phone_can_text(patient.phone):
        raise ValidationError(
            "The patient has no mobile number a text can reach; use their portal password."
        )
    SigningCode.objects.filter(plan_version=version, used_at__isnull=True).update(used_at=now)
    code = f"{secrets.randbelow(1_000_000):06d}"
    signing = SigningCode.objects.create(
        plan_version=version,
        patient=patient,
        code_hash=_code_hash(code, version.pk),
        issued_by=actor,
        issued_at=now,
        expires_at=now + timedelta(minutes=SIGNING_CODE_MINUTES),
    )
    _audit("signing_code_issued", actor, version, signing)
    signing_code_issued.send(
        sender=SigningCode,
        signing_code=signing,
        patient=patient,
        code=code,
        minutes=SIGNING_CODE_MINUTES,
    )
    return signing


def plan_patient_sign(
    *,
    actor: User,
    version: PlanVersion,
    method: str,
    password: str = "",
    code: str = "",
    now: datetime | None = None,
) -> PlanVersion:
    """The patient signs at the clinic, on the staff screen, proving who they are with
    their portal password or the one-time code just sent to them. A wrong code counts an
    attempt (kept even though the signing is refused)."""
    now = clock.now(now)
    refused: ValidationError | None = None
    with transaction.atomic():
        version = _staff_version(actor, version)
        _patient_signable(version)
        patient = _patient(version)
        if method == SignatureMethod.PASSWORD:
            user = patient.user
            if user is None or not user.is_active or not user.has_usable_password():
                raise ValidationError(
                    {"method": "The patient has no portal account; send a one-time code."}
                )
            if not password or not user.check_password(password):
                refused = ValidationError({"password": "That password is not right."})
        elif method == SignatureMethod.ONE_TIME_CODE:
            refused = _use_code(version, code, now)
        else:
            raise ValidationError({"method": "Choose how the patient signs."})
        if refused is None:
            return _record_patient_signature(version, method=method, now=now, actor=actor)
        _audit("patient_sign_refused", actor, version, version, method=method)
    # Outside the block: the refusal's audit row and a code's counted attempt are
    # committed, not rolled back with the error.
    raise refused


def _use_code(version: PlanVersion, code: str, now: datetime) -> ValidationError | None:
    signing = (
        SigningCode.objects.select_for_update()
        .filter(plan_version=version, used_at__isnull=True)
        .order_by("-issued_at", "-pk")
        .first()
    )
    if signing is None:
        return ValidationError({"code": "Send a code first."})
    if signing.expires_at <= now:
        return ValidationError({"code": "This code has expired; send a new one."})
    if signing.attempts >= SIGNING_CODE_ATTEMPTS:
        return ValidationError({"code": "Too many wrong tries; send a new code."})
    typed = "".join(ch for ch in (code or "") if ch.isdigit())[:6]
    if not hmac.compare_digest(_code_hash(typed, version.pk), signing.code_hash):
        signing.attempts += 1
        signing.save(update_fields=["attempts"])
        left = SIGNING_CODE_ATTEMPTS - signing.attempts
        if left <= 0:
            return ValidationError({"code": "Too many wrong tries; send a new code."})
        return ValidationError({"code": f"That code is not right ({left} tries left)."})
    signing.used_at = now
    signing.save(update_fields=["used_at"])
    return None


@transaction.atomic
def plan_patient_sign_portal(
    *, patient_user: User, version: PlanVersion, now: datetime | None = None
) -> PlanVersion:
    """The logged-in patient signs their own plan in the portal."""
    now = clock.now(now)
    patient = patient_user.patient_record if patient_user.is_portal_patient else None
    if patient is None or version.plan.patient_id != patient.pk:
        raise ValidationError("No such plan.")
    _patient_signable(version)
    return _record_patient_signature(
        version, method=SignatureMethod.PORTAL, now=now, actor=patient_user
    )


# --- reviews -----------------------------------------------------------------------------


def _latest_level_change(enrollment: Enrollment) -> date | None:
    event = (
        EnrollmentEvent.objects.filter(enrollment=enrollment, kind=EnrollmentEvent.Kind.LEVEL)
        .order_by("-effective_date", "-pk")
        .first()
    )
    return event.effective_date if event is not None else None


@transaction.atomic
def plan_review_start(
    *, actor: User, plan: TreatmentPlan, now: datetime | None = None
) -> PlanVersion:
    """A new draft version copying every part of the latest signed version (new rows;
    objectives keep their status). Kind "level_change" when the episode's level differs
    from the signed version's. One draft at a time."""
    now = clock.now(now)
    plan = TreatmentPlan.objects.select_related("enrollment", "patient").get(pk=plan.pk)
    require_clinician(actor, plan.patient)
    if not plan.enrollment.is_open:
        raise ValidationError("This episode of care is closed; its plan is kept as it is.")
    if PlanVersion.objects.filter(plan=plan, status=RecordStatus.DRAFT).exists():
        raise ValidationError("This plan already has a draft; finish or sign it first.")
    source = (
        PlanVersion.objects.filter(plan=plan)
        .exclude(status=RecordStatus.DRAFT)
        .order_by("-number")
        .first()
    )
    if source is None:
        raise ValidationError("Sign the initial plan before starting a review.")
    last_number = PlanVersion.objects.filter(plan=plan).order_by("-number").first()
    level = plan.enrollment.level
    kind = PlanVersionKind.LEVEL_CHANGE if level != source.level else PlanVersionKind.REVIEW
    try:
        with transaction.atomic():
            version = PlanVersion.objects.create(
                plan=plan,
                number=(last_number.number if last_number else 0) + 1,
                kind=kind,
                level=level,
                strengths=source.strengths,
                preferences=source.preferences,
                author=actor,
                created_at=now,
                updated_at=now,
            )
    except IntegrityError:
        # Another clinician started a review at the same moment.
        raise ValidationError("This plan already has a draft; finish or sign it first.") from None
    _copy_parts(source, version)
    _audit("review_started", actor, version, version, kind=kind, copied_from=source.pk)
    return version


def _copy_parts(source: PlanVersion, target: PlanVersion) -> None:
    problems: dict[int, PlanProblem] = {}
    for p in PlanProblem.objects.filter(version=source).order_by("position", "pk"):
        problems[p.pk] = PlanProblem.objects.create(
            version=target, position=p.position, dimension=p.dimension, description=p.description
        )
    goals: dict[int, PlanGoal] = {}
    for g in PlanGoal.objects.filter(version=source).order_by("position", "pk"):
        goals[g.pk] = PlanGoal.objects.create(
            version=target, problem=problems[g.problem_id], position=g.position, text=g.text
        )
    objectives: dict[int, PlanObjective] = {}
    for o in PlanObjective.objects.filter(version=source).order_by("position", "pk"):
        objectives[o.pk] = PlanObjective.objects.create(
            version=target,
            goal=goals[o.goal_id],
            position=o.position,
            text=o.text,
            target_date=o.target_date,
            status=o.status,
        )
    PlanIntervention.objects.bulk_create(
        PlanIntervention(
            version=target,
            objective=objectives[i.objective_id],
            position=i.position,
            service_type=i.service_type,
            frequency=i.frequency,
            responsible_id=i.responsible_id,
        )
        for i in PlanIntervention.objects.filter(version=source).order_by("position", "pk")
    )
