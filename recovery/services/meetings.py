"""Mutual-help meetings: the site's weekly requirement, logging a meeting (with its
attendance sheet) and staff review."""

from __future__ import annotations

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import clock
from core.formats import format_day
from core.models import Site, User
from core.validators import require_dates_in_range
from patients.models import Enrollment, Patient, ProgramPhase

from ..models import AttendanceMode, Fellowship, Meeting, MeetingRequirement, MeetingStatus
from ..uploads import check_upload
from ._common import _audit, _require_actor_for, _require_staff, _store


def _episode_for(patient: Patient, on: date) -> Enrollment | None:
    """The enrollment covering a site-local date (open or discharged after it)."""
    for enrollment in patient.enrollments.order_by("-admission_date", "-pk"):
        if enrollment.admission_date <= on and (
            enrollment.discharge_date is None or on <= enrollment.discharge_date
        ):
            return enrollment
    return None


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
    require_dates_in_range(held_at=held_at)
    _require_actor_for(actor, patient)
    if timezone.is_naive(held_at):
        raise ValidationError({"held_at": "The time needs a time zone."})
    errors: dict[str, str] = {}
    if held_at > now:
        errors["held_at"] = _("A meeting cannot be in the future. Check the date and time.")
    else:
        local_day = held_at.astimezone(patient.site.tz).date()
        if _episode_for(patient, local_day) is None:
            first = patient.enrollments.order_by("admission_date").first()
            if first is not None and local_day < first.admission_date:
                errors["held_at"] = _(
                    "This meeting is before admission (%(day)s). Only meetings since "
                    "admission count."
                ) % {"day": format_day(first.admission_date)}
            else:
                errors["held_at"] = _("There is no enrollment covering this date.")
        if (
            "held_at" not in errors
            and Meeting.objects.filter(patient=patient, held_at=held_at)
            .exclude(status=MeetingStatus.REJECTED)
            .exists()
        ):
            errors["held_at"] = _("A meeting at this date and time is already logged.")
    if fellowship not in Fellowship.values:
        errors["fellowship"] = _("Choose a fellowship.")
    elif fellowship == Fellowship.OTHER and not fellowship_other.strip():
        errors["fellowship_other"] = _("Say which fellowship or group.")
    if not name.strip():
        errors["name"] = _("Give the meeting's name.")
    if mode not in AttendanceMode.values:
        errors["mode"] = _("Choose in person or online.")
    elif mode == AttendanceMode.IN_PERSON and not place.strip():
        errors["place"] = _("Say where the meeting was.")
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
            {"held_at": _("A meeting at this date and time is already logged.")}
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
