"""Writes for meetings, sponsors, step work and homework.

Every function is keyword-only and atomic, validates its input (ValidationError
with the form's field names), and writes its audit row in the same transaction.
Uploaded files are checked before anything is written; a file written for a
transaction that then rolls back is left unreferenced (never served) rather than
removed, since removal cannot be made part of the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from core import audit, clock
from core.clock import site_today
from core.formats import format_day
from core.models import Site, User
from patients.access import patients_visible_to
from patients.models import OPEN_STATUSES, Enrollment, Patient, ProgramPhase, TrackMembership
from scheduling.selectors import session_roster_patients

from ..models import (
    Attachment,
    AttendanceMode,
    Fellowship,
    HomeworkAssignment,
    HomeworkStatus,
    HomeworkSubmission,
    HomeworkTemplate,
    Meeting,
    MeetingRequirement,
    MeetingStatus,
    ReviewOutcome,
    Sponsor,
    StepProgress,
)
from ..uploads import CheckedFile, check_upload


def _audit(
    action: str,
    *,
    actor: User,
    patient_id: int | None,
    site_id: int | None,
    obj: models.Model,
    **detail: Any,
) -> None:
    audit.record(
        action=action, actor=actor, patient_id=patient_id, site_id=site_id, obj=obj, detail=detail
    )


def _require_staff(actor: User, patient: Patient | None = None) -> None:
    """Reviews are staff work; a patient can never review their own record."""
    if actor is None or not actor.is_clinic_staff:
        raise ValidationError("Only clinic staff can do this.")
    if patient is not None and patient.user_id is not None and patient.user_id == actor.pk:
        raise ValidationError("You cannot review your own record.")


def _require_actor_for(actor: User, patient: Patient) -> None:
    """The patient themself (portal) or staff who may see the patient."""
    if actor.pk is not None and actor.pk == patient.user_id:
        return
    if actor.is_clinic_staff and patients_visible_to(actor).filter(pk=patient.pk).exists():
        return
    raise ValidationError("You do not have access to this patient.")


def _episode_for(patient: Patient, on: date) -> Enrollment | None:
    """The enrollment covering a site-local date (open or discharged after it)."""
    for enrollment in patient.enrollments.order_by("-admission_date", "-pk"):
        if enrollment.admission_date <= on and (
            enrollment.discharge_date is None or on <= enrollment.discharge_date
        ):
            return enrollment
    return None


def _store(
    checked: CheckedFile, *, actor: User, site_id: int, patient_id: int | None, now: datetime
) -> Attachment:
    attachment = Attachment(
        site_id=site_id,
        patient_id=patient_id,
        original_name=checked.original_name,
        content_type=checked.content_type,
        size=checked.size,
        sha256=checked.sha256,
        uploaded_by=actor,
        uploaded_at=now,
    )
    checked.upload.seek(0)
    attachment.file.save(f"upload.{checked.extension}", checked.upload, save=False)
    attachment.save()
    return attachment


# --- requirements -------------------------------------------------------------


@transaction.atomic
def meeting_requirement_set(
    *,
    actor: User,
    site: Site,
    phase: ProgramPhase | None = None,
    meetings_per_week: int,
    fellowships: list[str],
) -> MeetingRequirement:
    if phase is not None and phase.site_id != site.pk:
        raise ValidationError({"phase": "That phase belongs to another site."})
    unknown = set(fellowships) - set(Fellowship.values)
    if unknown:
        raise ValidationError({"fellowships": "Unknown fellowship."})
    if not 0 <= meetings_per_week <= 21:
        raise ValidationError({"meetings_per_week": "Between 0 and 21 meetings a week."})
    req, _ = MeetingRequirement.objects.update_or_create(
        site=site,
        phase=phase,
        defaults={"meetings_per_week": meetings_per_week, "fellowships": sorted(fellowships)},
    )
    _audit(
        "recovery.requirement_set",
        actor=actor,
        patient_id=None,
        site_id=site.pk,
        obj=req,
        per_week=meetings_per_week,
        fellowships=sorted(fellowships),
    )
    return req


# --- meetings ------------------------------------------------------------------


@transaction.atomic
def meeting_log(
    *,
    actor: User,
    patient: Patient,
    held_at: datetime,
    fellowship: str,
    name: str,
    mode: str,
    place: str = "",
    fellowship_other: str = "",
    chair_name: str = "",
    notes: str = "",
    sheet: UploadedFile | None = None,
    now: datetime | None = None,
) -> Meeting:
    now = clock.now(now)
    _require_actor_for(actor, patient)
    if timezone.is_naive(held_at):
        raise ValidationError({"held_at": "The time needs a time zone."})
    errors: dict[str, str] = {}
    if held_at > now:
        errors["held_at"] = "A meeting cannot be in the future. Check the date and time."
    else:
        local_day = held_at.astimezone(patient.site.tz).date()
        if _episode_for(patient, local_day) is None:
            first = patient.enrollments.order_by("admission_date").first()
            if first is not None and local_day < first.admission_date:
                errors["held_at"] = (
                    "This meeting is before admission "
                    f"({format_day(first.admission_date)}). Only meetings since admission count."
                )
            else:
                errors["held_at"] = "There is no enrollment covering this date."
        if (
            "held_at" not in errors
            and Meeting.objects.filter(patient=patient, held_at=held_at)
            .exclude(status=MeetingStatus.REJECTED)
            .exists()
        ):
            errors["held_at"] = "A meeting at this date and time is already logged."
    if fellowship not in Fellowship.values:
        errors["fellowship"] = "Choose a fellowship."
    elif fellowship == Fellowship.OTHER and not fellowship_other.strip():
        errors["fellowship_other"] = "Say which fellowship or group."
    if not name.strip():
        errors["name"] = "Give the meeting's name."
    if mode not in AttendanceMode.values:
        errors["mode"] = "Choose in person or online."
    elif mode == AttendanceMode.IN_PERSON and not place.strip():
        errors["place"] = "Say where the meeting was."
    checked = None
    if sheet is not None:
        try:
            checked = check_upload(sheet, field="sheet")
        except ValidationError as exc:
            errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    attachment = (
        _store(checked, actor=actor, site_id=patient.site_id, patient_id=patient.pk, now=now)
        if checked
        else None
    )
    meeting = Meeting(
        patient=patient,
        site_id=patient.site_id,
        held_at=held_at,
        fellowship=fellowship,
        fellowship_other=fellowship_other.strip() if fellowship == Fellowship.OTHER else "",
        name=name.strip(),
        mode=mode,
        place=place.strip(),
        chair_name=chair_name.strip(),
        notes=notes.strip(),
        sheet=attachment,
        logged_by=actor,
        logged_at=now,
    )
    try:
        with transaction.atomic():
            meeting.save()
    except IntegrityError:
        # Two submissions of the same meeting raced past the check above.
        raise ValidationError(
            {"held_at": "A meeting at this date and time is already logged."}
        ) from None
    _audit(
        "recovery.meeting_log",
        actor=actor,
        patient_id=patient.pk,
        site_id=patient.site_id,
        obj=meeting,
        by_patient=actor.pk == patient.user_id,
        with_sheet=attachment is not None,
    )
    return meeting


@transaction.atomic
def meeting_review(
    *,
    actor: User,
    meeting: Meeting,
    verify: bool,
    reason: str = "",
    now: datetime | None = None,
) -> Meeting:
    now = clock.now(now)
    locked = (
        Meeting.objects.select_for_update(of=("self",)).select_related("patient").get(pk=meeting.pk)
    )
    _require_staff(actor, locked.patient)
    _require_actor_for(actor, locked.patient)
    if locked.status != MeetingStatus.PENDING:
        raise ValidationError(
            f"This meeting was already {locked.get_status_display().lower()}; nothing changed."
        )
    reason = reason.strip()
    if not verify and not reason:
        raise ValidationError({"reason": "Give the patient a reason for not accepting it."})
    locked.status = MeetingStatus.VERIFIED if verify else MeetingStatus.REJECTED
    locked.rejection_reason = "" if verify else reason[:300]
    locked.reviewed_by = actor
    locked.reviewed_at = now
    locked.save(update_fields=["status", "rejection_reason", "reviewed_by", "reviewed_at"])
    _audit(
        "recovery.meeting_verify" if verify else "recovery.meeting_reject",
        actor=actor,
        patient_id=locked.patient_id,
        site_id=locked.site_id,
        obj=locked,
    )
    return locked


# --- sponsor and steps ------------------------------------------------------------


@transaction.atomic
def sponsor_set(
    *,
    actor: User,
    patient: Patient,
    name: str,
    phone: str = "",
    since: date,
    now: datetime | None = None,
) -> Sponsor:
    now = clock.now(now)
    _require_actor_for(actor, patient)
    if since > site_today(patient.site, now):
        raise ValidationError({"since": "This date is in the future."})
    if not name.strip():
        raise ValidationError({"name": "Give the sponsor's name."})
    current = Sponsor.objects.select_for_update().filter(patient=patient, ended_on=None).first()
    if current is not None:
        if since < current.since:
            raise ValidationError(
                {"since": f"The current sponsor started on {format_day(current.since)}."}
            )
        current.ended_on = max(current.since, since - timedelta(days=1))
        current.save(update_fields=["ended_on"])
    sponsor = Sponsor.objects.create(
        patient=patient,
        name=name.strip(),
        phone=phone.strip(),
        since=since,
        recorded_by=actor,
        recorded_at=now,
    )
    _audit(
        "recovery.sponsor_set",
        actor=actor,
        patient_id=patient.pk,
        site_id=patient.site_id,
        obj=sponsor,
        replaced=current.pk if current else None,
    )
    return sponsor


@transaction.atomic
def step_set(
    *, actor: User, patient: Patient, step: int, started_on: date, now: datetime | None = None
) -> StepProgress:
    now = clock.now(now)
    _require_actor_for(actor, patient)
    if not 1 <= step <= 12:
        raise ValidationError({"step": "Steps are numbered 1 to 12."})
    if started_on > site_today(patient.site, now):
        raise ValidationError({"started_on": "This date is in the future."})
    row = StepProgress.objects.create(
        patient=patient, step=step, started_on=started_on, recorded_by=actor, recorded_at=now
    )
    _audit(
        "recovery.step_set",
        actor=actor,
        patient_id=patient.pk,
        site_id=patient.site_id,
        obj=row,
        step=step,
    )
    return row


# --- homework ----------------------------------------------------------------------


@transaction.atomic
def homework_template_create(
    *,
    actor: User,
    site: Site,
    title: str,
    instructions: str,
    worksheet: UploadedFile | None = None,
    now: datetime | None = None,
) -> HomeworkTemplate:
    now = clock.now(now)
    _require_staff(actor)
    title = title.strip()
    if not title:
        raise ValidationError({"title": "Give the homework a title."})
    if HomeworkTemplate.objects.filter(site=site, title__iexact=title).exists():
        raise ValidationError({"title": "This site already has homework with that title."})
    checked = check_upload(worksheet, field="worksheet") if worksheet is not None else None
    attachment = (
        _store(checked, actor=actor, site_id=site.pk, patient_id=None, now=now) if checked else None
    )
    template = HomeworkTemplate.objects.create(
        site=site,
        title=title,
        instructions=instructions.strip(),
        worksheet=attachment,
        created_by=actor,
        created_at=now,
    )
    _audit(
        "recovery.homework_template_create",
        actor=actor,
        patient_id=None,
        site_id=site.pk,
        obj=template,
    )
    return template


def _check_assignable(
    template: HomeworkTemplate, site_id: int, due_date: date, today: date
) -> None:
    if template.site_id != site_id:
        raise ValidationError({"template": "That homework belongs to another site."})
    if not template.is_active:
        raise ValidationError({"template": "That homework is no longer in the library."})
    if due_date < today:
        raise ValidationError({"due_date": "The due date is in the past."})


def _new_assignment(
    *,
    actor: User,
    patient: Patient,
    template: HomeworkTemplate,
    due_date: date,
    group_label: str,
    now: datetime,
) -> HomeworkAssignment:
    return HomeworkAssignment(
        patient=patient,
        site_id=patient.site_id,
        template=template,
        title=template.title,
        instructions=template.instructions,
        due_date=due_date,
        group_label=group_label[:120],
        assigned_by=actor,
        assigned_at=now,
    )


@transaction.atomic
def homework_assign(
    *,
    actor: User,
    patient: Patient,
    template: HomeworkTemplate,
    due_date: date,
    now: datetime | None = None,
) -> HomeworkAssignment:
    now = clock.now(now)
    _require_staff(actor, patient)
    _require_actor_for(actor, patient)
    _check_assignable(template, patient.site_id, due_date, site_today(patient.site, now))
    if not patient.enrollments.filter(status__in=OPEN_STATUSES).exists():
        raise ValidationError("This patient has no open enrollment.")
    assignment = _new_assignment(
        actor=actor, patient=patient, template=template, due_date=due_date, group_label="", now=now
    )
    try:
        with transaction.atomic():
            assignment.save()
    except IntegrityError:
        raise ValidationError(
            {"template": "This patient already has this homework due that day."}
        ) from None
    _audit(
        "recovery.homework_assign",
        actor=actor,
        patient_id=patient.pk,
        site_id=patient.site_id,
        obj=assignment,
    )
    return assignment


def _assign_to_group(
    *,
    actor: User,
    patients: Iterable[Patient],
    site: Site,
    template: HomeworkTemplate,
    due_date: date,
    group_label: str,
    now: datetime,
) -> tuple[list[HomeworkAssignment], int]:
    """Assign to each patient once; those who already have it due that day are skipped."""
    _require_staff(actor)
    _check_assignable(template, site.pk, due_date, site_today(site, now))
    patients = list(patients)
    already = set(
        HomeworkAssignment.objects.filter(
            template=template, due_date=due_date, patient__in=patients
        ).values_list("patient_id", flat=True)
    )
    todo = [p for p in patients if p.pk not in already]
    rows = [
        _new_assignment(
            actor=actor,
            patient=p,
            template=template,
            due_date=due_date,
            group_label=group_label,
            now=now,
        )
        for p in todo
    ]
    try:
        with transaction.atomic():
            created = HomeworkAssignment.objects.bulk_create(rows)
    except IntegrityError:
        # Someone assigned the same homework to part of this group at the same moment.
        raise ValidationError(
            {"template": "Someone assigned this homework at the same time. Please try again."}
        ) from None
    for assignment in created:
        _audit(
            "recovery.homework_assign",
            actor=actor,
            patient_id=assignment.patient_id,
            site_id=site.pk,
            obj=assignment,
            group=True,
        )
    return created, len(already)


@transaction.atomic
def homework_assign_track(
    *,
    actor: User,
    track: Any,  # scheduling.models.Track: recovery does not import scheduling
    on: date,
    template: HomeworkTemplate,
    due_date: date,
    now: datetime | None = None,
) -> tuple[list[HomeworkAssignment], int]:
    """Assign to every patient on the track's roster on a site-local date (whom the
    assigning user may see). Returns (created, skipped as already assigned)."""
    now = clock.now(now)
    roster = TrackMembership.objects.filter(track=track, start_date__lte=on).exclude(
        end_date__lt=on
    )
    patients = (
        patients_visible_to(actor)
        .filter(pk__in=roster.values("patient_id"))
        .filter(enrollments__status__in=OPEN_STATUSES)
        .select_related("site")
        .distinct()
    )
    created, skipped = _assign_to_group(
        actor=actor,
        patients=patients,
        site=track.site,
        template=template,
        due_date=due_date,
        group_label=f"{track.name} roster on {format_day(on)}",
        now=now,
    )
    if not created and not skipped:
        raise ValidationError({"track": "Nobody is on that track's roster on that date."})
    return created, skipped


@transaction.atomic
def homework_assign_session(
    *,
    actor: User,
    session: Any,  # scheduling.models.Session: recovery does not import scheduling
    template: HomeworkTemplate,
    due_date: date,
    now: datetime | None = None,
) -> tuple[list[HomeworkAssignment], int]:
    """Assign to everyone on a scheduling session's roster (whom the user may see).
    Returns (created, skipped as already assigned)."""
    now = clock.now(now)
    roster = session_roster_patients(session)
    patients = (
        patients_visible_to(actor)
        .filter(pk__in=[p.pk for p in roster])
        .filter(enrollments__status__in=OPEN_STATUSES)
        .select_related("site")
        .distinct()
    )
    created, skipped = _assign_to_group(
        actor=actor,
        patients=patients,
        site=session.site,
        template=template,
        due_date=due_date,
        group_label=f"{session.title} on {format_day(session.local_date)}"[:120],
        now=now,
    )
    if not created and not skipped:
        raise ValidationError({"session": "Nobody is on that session's roster."})
    return created, skipped


def _locked_assignment(assignment: HomeworkAssignment) -> HomeworkAssignment:
    return (
        HomeworkAssignment.objects.select_for_update(of=("self",))
        .select_related("patient", "site")
        .get(pk=assignment.pk)
    )


@transaction.atomic
def homework_submit(
    *,
    actor: User,
    assignment: HomeworkAssignment,
    text: str = "",
    files: list[UploadedFile] | None = None,
    now: datetime | None = None,
) -> HomeworkSubmission:
    now = clock.now(now)
    # Lock first: two tabs submitting at once must not both become round N.
    locked = _locked_assignment(assignment)
    _require_actor_for(actor, locked.patient)
    if locked.status == HomeworkStatus.ACCEPTED:
        raise ValidationError("This homework was already accepted; there is nothing to resubmit.")
    if locked.status == HomeworkStatus.SUBMITTED:
        raise ValidationError(
            "Your last submission is waiting for your counselor. You can resubmit if it is "
            "returned."
        )
    text = text.strip()
    files = list(files or [])
    if not text and not files:
        raise ValidationError({"text": "Write your answer or attach a file."})
    checked = []
    errors = []
    for f in files:
        try:
            checked.append(check_upload(f, field="files"))
        except ValidationError as exc:
            errors.extend(exc.message_dict["files"])
    if errors:
        raise ValidationError({"files": errors})
    round_no = locked.submissions.count() + 1
    submission = HomeworkSubmission.objects.create(
        assignment=locked, round=round_no, text=text, submitted_by=actor, submitted_at=now
    )
    if checked:
        submission.files.set(
            [
                _store(
                    c, actor=actor, site_id=locked.site_id, patient_id=locked.patient_id, now=now
                )
                for c in checked
            ]
        )
    locked.status = HomeworkStatus.SUBMITTED
    locked.save(update_fields=["status"])
    _audit(
        "recovery.homework_submit",
        actor=actor,
        patient_id=locked.patient_id,
        site_id=locked.site_id,
        obj=submission,
        round=round_no,
        files=len(checked),
    )
    return submission


@transaction.atomic
def homework_review(
    *,
    actor: User,
    submission: HomeworkSubmission,
    accept: bool,
    comment: str = "",
    now: datetime | None = None,
) -> HomeworkSubmission:
    now = clock.now(now)
    locked = _locked_assignment(submission.assignment)
    _require_staff(actor, locked.patient)
    _require_actor_for(actor, locked.patient)
    current = HomeworkSubmission.objects.select_for_update().get(pk=submission.pk)
    if current.reviewed_at is not None or locked.status != HomeworkStatus.SUBMITTED:
        raise ValidationError("This submission was already reviewed; nothing changed.")
    comment = comment.strip()
    if not accept and not comment:
        raise ValidationError({"comment": "Say what the patient should change."})
    current.outcome = ReviewOutcome.ACCEPTED if accept else ReviewOutcome.RETURNED
    current.comment = comment
    current.reviewed_by = actor
    current.reviewed_at = now
    current.save(update_fields=["outcome", "comment", "reviewed_by", "reviewed_at"])
    locked.status = HomeworkStatus.ACCEPTED if accept else HomeworkStatus.RETURNED
    locked.save(update_fields=["status"])
    _audit(
        "recovery.homework_accept" if accept else "recovery.homework_return",
        actor=actor,
        patient_id=locked.patient_id,
        site_id=locked.site_id,
        obj=current,
        round=current.round,
    )
    return current
