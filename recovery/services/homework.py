"""Homework: the site's library, assigning to a patient, a track's or a session's
roster, submissions and their review."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core import clock
from core.clock import site_today
from core.formats import format_day
from core.models import Site, User
from core.validators import MAX_DAYS_AHEAD, require_dates_in_range
from patients.access import patients_visible_to
from patients.models import OPEN_STATUSES, Patient, Track, TrackMembership
from scheduling.models import Session
from scheduling.selectors.rosters import session_roster_patients

from ..models import (
    HomeworkAssignment,
    HomeworkStatus,
    HomeworkSubmission,
    HomeworkTemplate,
    ReviewOutcome,
)
from ..uploads import check_upload
from ._common import _audit, _require_actor_for, _require_staff, _store


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
    require_dates_in_range(due_date=due_date)
    if due_date < today:
        raise ValidationError({"due_date": "The due date is in the past."})
    if due_date > today + timedelta(days=MAX_DAYS_AHEAD):
        raise ValidationError({"due_date": "Set a due date within a year."})


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
    track: Track,
    on: date,
    template: HomeworkTemplate,
    due_date: date,
    now: datetime | None = None,
) -> tuple[list[HomeworkAssignment], int]:
    """Assign to every patient on the track's roster on a site-local date (whom the
    assigning user may see). Returns (created, skipped as already assigned)."""
    now = clock.now(now)
    require_dates_in_range(on=on)
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
    session: Session,
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
        raise ValidationError(
            _("This homework was already accepted; there is nothing to resubmit.")
        )
    if locked.status == HomeworkStatus.SUBMITTED:
        raise ValidationError(
            _(
                "Your last submission is waiting for your counselor. You can resubmit if it "
                "is returned."
            )
        )
    text = text.strip()
    files = list(files or [])
    if not text and not files:
        raise ValidationError({"text": _("Write your answer or attach a file.")})
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
