"""Records in known states for the queue, co-sign and timeliness tests.

Built on the models (the plans, notes and groups services are other areas' work), with
the content hash and author signature a signed record carries."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from core.clock import local_datetime
from records.models import (
    GroupNote,
    NoteKind,
    PlanVersion,
    PlanVersionKind,
    ProgressNote,
    RecordStatus,
    ServiceType,
    SignatureMethod,
    SignerRole,
    TreatmentPlan,
)
from records.signing import digest, group_note_payload, note_payload, plan_version_payload
from records.signing import signature_add as add_signature
from scheduling.models import Attendance, Session, SessionKind


@pytest.fixture
def supervision(director, counselor, make_staff):
    """The director (LCSW, licensed) supervises the counselor (unlicensed)."""
    d = director.staff_profile
    d.licensed, d.credentials = True, "LCSW"
    d.save()
    c = counselor.staff_profile
    c.licensed, c.credentials, c.supervisor = False, "CADC-T", director
    c.save()
    for user in (director, counselor):
        user.__dict__.pop("staff", None)
    return director


@pytest.fixture
def licensed_colleague(make_staff, supervision, counselor):
    """A second licensed clinician at the site who also supervises the counselor's work
    (the race: two supervisors)."""
    # Medical staff see every chart of their site (a counselor only their caseload).
    user = make_staff("clinician_lic", "medical")
    profile = user.staff_profile
    profile.licensed, profile.credentials = True, "NP"
    profile.save()
    return user


def _enrollment(patient):
    return patient.enrollments.order_by("-admission_date", "-pk").first()


def make_note(
    *,
    author,
    patient,
    service_date: date,
    due_on: date | None = None,
    signed_at: datetime | None = None,
    is_late: bool = False,
    requires_cosign: bool = True,
    kind: str = NoteKind.INDIVIDUAL,
    group_note: GroupNote | None = None,
    session: Session | None = None,
    attendance: Attendance | None = None,
) -> ProgressNote:
    site = patient.site
    starts = local_datetime(service_date, time(10, 0), site.tz)
    note = ProgressNote.objects.create(
        patient=patient,
        enrollment=_enrollment(patient),
        site=site,
        kind=kind,
        format="" if kind == NoteKind.GROUP else "DAP",
        service_type=ServiceType.GROUP_COUNSELING
        if kind == NoteKind.GROUP
        else ServiceType.INDIVIDUAL_COUNSELING,
        session=session,
        group_note=group_note,
        attendance=attendance,
        service_date=service_date,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=50),
        data="Data.",
        response="Response.",
        author=author,
        created_at=starts,
        updated_at=starts,
        due_on=due_on or service_date + timedelta(days=3),
        requires_cosign=requires_cosign,
    )
    if signed_at is not None:
        note.content_hash = digest(note_payload(note))
        note.status, note.signed_at, note.is_late = RecordStatus.SIGNED, signed_at, is_late
        note.save(update_fields=["content_hash", "status", "signed_at", "is_late"])
        add_signature(
            target=note,
            role=SignerRole.AUTHOR,
            method=SignatureMethod.SESSION,
            at=signed_at,
            signer=author,
        )
    return note


def make_plan_version(
    *, author, patient, signed_at: datetime | None = None, requires_cosign: bool = True
) -> PlanVersion:
    enrollment = _enrollment(patient)
    at = signed_at or enrollment.created_at
    plan, _ = TreatmentPlan.objects.get_or_create(
        enrollment=enrollment, defaults={"patient": patient, "created_at": at}
    )
    version = PlanVersion.objects.create(
        plan=plan,
        number=plan.versions.count() + 1,
        kind=PlanVersionKind.INITIAL,
        level=enrollment.level,
        strengths="Family support.",
        author=author,
        created_at=at,
        updated_at=at,
        requires_cosign=requires_cosign,
    )
    if signed_at is not None:
        version.content_hash = digest(plan_version_payload(version))
        version.status, version.signed_at = RecordStatus.SIGNED, signed_at
        version.save(update_fields=["content_hash", "status", "signed_at"])
        add_signature(
            target=version,
            role=SignerRole.AUTHOR,
            method=SignatureMethod.SESSION,
            at=signed_at,
            signer=author,
        )
    return version


def make_session(
    *, track, facilitator, day: date, statuses: dict, at: time = time(18, 0)
) -> Session:
    """A held group session with each patient's attendance (``{patient: status}``)."""
    site = track.site
    starts = local_datetime(day, at, site.tz)
    session = Session.objects.create(
        site=site,
        track=track,
        local_date=day,
        starts_at=starts,
        ends_at=starts + timedelta(hours=3),
        kind=SessionKind.GROUP,
        topic="Coping with cravings",
        facilitator=facilitator,
        created_at=starts - timedelta(days=7),
    )
    for patient, status in statuses.items():
        Attendance.objects.create(
            session=session,
            patient=patient,
            status=status,
            minutes_credited=180 if status == "present" else 0,
            recorded_by=facilitator,
            recorded_at=starts + timedelta(hours=3),
            updated_at=starts + timedelta(hours=3),
        )
    return session


def make_group_note(*, session: Session, author, signed_at: datetime | None = None) -> GroupNote:
    """A group note; signed, it carries one attendee note per present patient."""
    at = session.ends_at
    group = GroupNote.objects.create(
        session=session,
        author=author,
        topic=session.topic,
        shared_text="We practised urge surfing.",
        created_at=at,
        updated_at=at,
    )
    if signed_at is None:
        return group
    requires = author.staff_profile.requires_cosign
    for attendance in session.attendance.filter(status="present").select_related("patient"):
        make_note(
            author=author,
            patient=attendance.patient,
            service_date=session.local_date,
            signed_at=signed_at,
            requires_cosign=requires,
            kind=NoteKind.GROUP,
            group_note=group,
            session=session,
            attendance=attendance,
        )
    group.content_hash = digest(group_note_payload(group))
    group.status, group.signed_at = RecordStatus.SIGNED, signed_at
    group.save(update_fields=["content_hash", "status", "signed_at"])
    return group
