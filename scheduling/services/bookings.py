"""Single sessions: individual bookings (checked for double booking), moves,
cancellations and the group note."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet

from core import audit, clock
from core.formats import format_time, format_when
from core.models import Site, User
from core.validators import MAX_DAYS_AHEAD, require_dates_in_range
from patients.models import Patient, TrackMembership

from ..models import INDIVIDUAL_KINDS, Session, SessionStatus
from ._common import _works_at


@transaction.atomic
def session_cancel(
    *, actor: User | None, session: Session, reason: str, now: datetime | None = None
) -> Session:
    session = Session.objects.select_for_update().get(pk=session.pk)
    if session.status != SessionStatus.SCHEDULED:
        raise ValidationError("This session is already cancelled.")
    if not reason.strip():
        raise ValidationError({"reason": "Say why the session is cancelled."})
    if session.attendance.exists():
        raise ValidationError("Attendance was taken at this session; it cannot be cancelled.")
    session.status = SessionStatus.CANCELLED
    session.status_reason = reason.strip()[:200]
    session.save(update_fields=["status", "status_reason"])
    audit.record(
        action="session.cancelled",
        actor=actor,
        site_id=session.site_id,
        patient_id=session.patient_id,
        obj=session,
    )
    return session


def _lock_booking(site: Site, facilitator: User | None, patient: Patient | None) -> None:
    """Serialise bookings that could collide: the site (rooms), the facilitator and the
    patient rows are locked in a fixed order so two bookings cannot both pass the check."""
    Site.objects.select_for_update().filter(pk=site.pk).exists()
    if facilitator is not None:
        list(User.objects.select_for_update().filter(pk=facilitator.pk).values_list("pk"))
    if patient is not None:
        list(Patient.objects.select_for_update().filter(pk=patient.pk).values_list("pk"))


def _overlapping(
    starts_at: datetime, ends_at: datetime, exclude_pk: int | None
) -> QuerySet[Session]:
    qs = Session.objects.filter(
        status=SessionStatus.SCHEDULED, starts_at__lt=ends_at, ends_at__gt=starts_at
    )
    return qs.exclude(pk=exclude_pk) if exclude_pk else qs


def _check_double_booking(
    *,
    site: Site,
    starts_at: datetime,
    ends_at: datetime,
    facilitator: User | None,
    room: str,
    patient: Patient | None,
    exclude_pk: int | None = None,
) -> None:
    errors: dict[str, str] = {}
    overlap = _overlapping(starts_at, ends_at, exclude_pk)
    tz = site.tz

    def when(s: Session) -> str:
        return f"{format_when(s.starts_at, year=False, tz=tz)}-{format_time(s.ends_at, tz=tz)}"

    if facilitator is not None:
        clash = overlap.filter(facilitator=facilitator).first()
        if clash:
            errors["facilitator"] = f"{facilitator} is already booked then ({when(clash)})."
    if room.strip():
        clash = overlap.filter(site=site, room__iexact=room.strip()).first()
        if clash:
            errors["room"] = f"{room} is already booked then ({when(clash)})."
    if patient is not None:
        clash = overlap.filter(patient=patient).first()
        if clash is None:
            local_day = starts_at.astimezone(tz).date()
            track_ids = TrackMembership.objects.filter(
                patient=patient, start_date__lte=local_day
            ).filter(Q(end_date__isnull=True) | Q(end_date__gte=local_day))
            clash = overlap.filter(
                track_id__in=track_ids.values("track_id"), local_date=local_day
            ).first()
        if clash:
            errors["patient"] = f"The patient already has a session then ({when(clash)})."
    if errors:
        raise ValidationError(errors)


def _require_bookable_range(starts_at: datetime, ends_at: datetime, now: datetime) -> None:
    # Checked before any arithmetic: a year-9999 time overflows on the first timedelta.
    require_dates_in_range(starts_at=starts_at, ends_at=ends_at)
    if starts_at > now + timedelta(days=MAX_DAYS_AHEAD):
        raise ValidationError({"starts_at": "Book sessions at most a year ahead."})


@transaction.atomic
def individual_session_book(
    *,
    actor: User | None,
    patient: Patient,
    kind: str,
    starts_at: datetime,
    ends_at: datetime,
    facilitator: User,
    room: str = "",
    video_link: str = "",
    topic: str = "",
    now: datetime | None = None,
) -> Session:
    """Book a 1:1, family or medication-management session for one patient."""
    now = clock.now(now)
    _require_bookable_range(starts_at, ends_at, now)
    site = patient.site
    errors: dict[str, str] = {}
    if kind not in INDIVIDUAL_KINDS:
        errors["kind"] = "Choose an individual session kind."
    if ends_at <= starts_at:
        errors["ends_at"] = "The session must end after it starts."
    elif ends_at - starts_at > timedelta(hours=8):
        errors["ends_at"] = "A session lasts at most 8 hours."
    if starts_at < now - timedelta(days=30):
        errors["starts_at"] = "Sessions more than 30 days in the past cannot be booked."
    if not _works_at(facilitator, site):
        errors["facilitator"] = "That staff member does not work at the patient's site."
    if errors:
        raise ValidationError(errors)
    _lock_booking(site, facilitator, patient)
    _check_double_booking(
        site=site,
        starts_at=starts_at,
        ends_at=ends_at,
        facilitator=facilitator,
        room=room,
        patient=patient,
    )
    session = Session.objects.create(
        site=site,
        patient=patient,
        kind=kind,
        topic=topic,
        local_date=starts_at.astimezone(site.tz).date(),
        starts_at=starts_at,
        ends_at=ends_at,
        facilitator=facilitator,
        room=room.strip(),
        video_link=video_link,
        capacity=1,
        created_at=now,
    )
    audit.record(
        action="session.booked",
        actor=actor,
        patient_id=patient.pk,
        site_id=site.pk,
        obj=session,
        detail={"kind": kind},
    )
    return session


@transaction.atomic
def session_move(
    *,
    actor: User | None,
    session: Session,
    starts_at: datetime,
    ends_at: datetime,
    room: str | None = None,
    facilitator: User | None = None,
    now: datetime | None = None,
) -> Session:
    """Move one occurrence (the series is untouched: only this date changes)."""
    now = clock.now(now)
    _require_bookable_range(starts_at, ends_at, now)
    session = (
        Session.objects.select_for_update(of=("self",))
        .select_related("site", "patient")
        .get(pk=session.pk)
    )
    errors: dict[str, str] = {}
    if session.status != SessionStatus.SCHEDULED:
        errors["starts_at"] = "A cancelled session cannot be moved."
    if ends_at <= starts_at:
        errors["ends_at"] = "The session must end after it starts."
    if starts_at < now or session.starts_at < now:
        errors["starts_at"] = "Only a session that has not started can be moved to a future time."
    if errors:
        raise ValidationError(errors)
    facilitator = facilitator or session.facilitator
    room = session.room if room is None else room
    _lock_booking(session.site, facilitator, session.patient)
    _check_double_booking(
        site=session.site,
        starts_at=starts_at,
        ends_at=ends_at,
        facilitator=facilitator,
        room=room,
        patient=session.patient,
        exclude_pk=session.pk,
    )
    session.starts_at, session.ends_at = starts_at, ends_at
    session.local_date = starts_at.astimezone(session.site.tz).date()
    session.facilitator, session.room, session.is_moved = facilitator, room, True
    session.save()
    audit.record(
        action="session.moved",
        actor=actor,
        site_id=session.site_id,
        patient_id=session.patient_id,
        obj=session,
    )
    return session
