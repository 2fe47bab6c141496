"""The demo's co-signatures waiting: the director's queue always has one of each kind.

The notes, plans and groups steps leave the counselor's (a counselor-in-training) signed
work waiting for the director; this step runs after them and, for each kind (a note, a
plan version, a group note) of which nothing of the counselor's waits, signs one, so that
the director's queue and its Co-sign buttons are there to see (idempotent).
"""

from __future__ import annotations

from datetime import time, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef

from core.clock import local_datetime
from core.demo import DEMO_STEPS, DemoContext
from core.models import User
from patients.models import OPEN_STATUSES, Enrollment
from scheduling.models import ATTENDED_STATUSES, Attendance, Session, SessionStatus

from ..clocks import note_due_on
from ..models import (
    AsamDimension,
    GroupNote,
    NoteFormat,
    NoteKind,
    PlanGoal,
    PlanObjective,
    PlanProblem,
    PlanVersion,
    PlanVersionKind,
    ProgressNote,
    RecordStatus,
    ServiceType,
    SignatureMethod,
    SignerRole,
    TreatmentPlan,
)
from ..selectors.queue import group_notes_awaiting_cosign
from ..services._common import audit_write
from ..signing import (
    author_credentials,
    digest,
    group_note_payload,
    note_payload,
    plan_version_payload,
    signature_add,
)


@DEMO_STEPS.register("history", order=48)
@transaction.atomic
def seed_cosign_waiting(ctx: DemoContext) -> None:
    counselor = ctx.staff["counselor"]
    staff = counselor.staff
    if staff is None or not staff.requires_cosign:
        return
    _note_waiting(ctx, counselor)
    _plan_waiting(ctx, counselor)
    _group_waiting(ctx, counselor)


def _note_waiting(ctx: DemoContext, counselor: User) -> None:
    waiting = ProgressNote.objects.filter(
        author=counselor, status=RecordStatus.SIGNED, requires_cosign=True
    ).exclude(kind=NoteKind.GROUP)
    if waiting.exists():
        return
    enrollment = (
        Enrollment.objects.filter(
            patient__primary_counselor=counselor,
            site=ctx.sites["riverside"],
            status__in=OPEN_STATUSES,
        )
        .select_related("patient", "site")
        .order_by("pk")
        .first()
    )
    if enrollment is None:
        return
    site = enrollment.site
    # Yesterday's individual session, signed this morning: on time, waiting for the
    # supervisor.
    day = ctx.today - timedelta(days=1)
    starts = local_datetime(day, time(14, 0), site.tz)
    signed_at = local_datetime(ctx.today, time(8, 30), site.tz)
    note = ProgressNote(
        patient=enrollment.patient,
        enrollment=enrollment,
        site=site,
        kind=NoteKind.INDIVIDUAL,
        format=NoteFormat.DAP,
        service_type=ServiceType.INDIVIDUAL_COUNSELING,
        service_date=day,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=50),
        data="Reviewed the week's cravings log; two high-risk evenings, both managed.",
        assessment="Engaged; coping skills used without prompting.",
        plan="Continue IOP evening track; practise urge surfing before the next session.",
        response="Patient named one new trigger and a plan for it.",
        author=counselor,
        author_credentials=author_credentials(counselor),
        created_at=starts + timedelta(hours=1),
        updated_at=starts + timedelta(hours=1),
        due_on=note_due_on(site, day, ServiceType.INDIVIDUAL_COUNSELING),
        requires_cosign=True,
    )
    note.save()
    note.content_hash = digest(note_payload(note))
    note.status = RecordStatus.SIGNED
    note.signed_at = signed_at
    note.is_late = False
    note.save(update_fields=["content_hash", "status", "signed_at", "is_late"])
    signature_add(
        target=note,
        role=SignerRole.AUTHOR,
        method=SignatureMethod.SESSION,
        at=signed_at,
        signer=counselor,
    )
    audit_write(
        "records.note.signed",
        actor=counselor,
        patient_id=note.patient_id,
        site_id=site.pk,
        obj=note,
    )
    ctx.log.append("records: a signed note of the counselor waits for the director's co-sign")


def _plan_waiting(ctx: DemoContext, counselor: User) -> None:
    waiting = PlanVersion.objects.filter(
        author=counselor, status=RecordStatus.SIGNED, requires_cosign=True
    )
    if waiting.exists():
        return
    # An episode of the counselor's caseload that has no plan yet: its initial plan.
    enrollment = (
        Enrollment.objects.filter(
            patient__primary_counselor=counselor,
            site=ctx.sites["riverside"],
            status__in=OPEN_STATUSES,
            treatment_plan__isnull=True,
        )
        .select_related("patient", "site")
        .order_by("-admission_date", "pk")
        .first()
    )
    if enrollment is None:
        return
    site = enrollment.site
    written = local_datetime(ctx.today - timedelta(days=1), time(16, 0), site.tz)
    signed_at = local_datetime(ctx.today, time(9, 0), site.tz)
    plan = TreatmentPlan.objects.create(
        enrollment=enrollment, patient=enrollment.patient, created_at=written
    )
    version = PlanVersion.objects.create(
        plan=plan,
        number=1,
        kind=PlanVersionKind.INITIAL,
        level=enrollment.level,
        strengths="Motivated by family; steady job; attends every group.",
        preferences="Evening sessions; prefers a male counselor for individual work.",
        author=counselor,
        author_credentials=author_credentials(counselor),
        created_at=written,
        updated_at=written,
        requires_cosign=True,
    )
    problem = PlanProblem.objects.create(
        version=version,
        dimension=AsamDimension.RELAPSE,
        description="Cravings in the evenings after work.",
    )
    goal = PlanGoal.objects.create(
        version=version, problem=problem, text="I want to get through my evenings sober."
    )
    PlanObjective.objects.create(
        version=version,
        goal=goal,
        text="Uses one coping skill on each high-risk evening, logged daily, for 4 weeks.",
        target_date=ctx.today + timedelta(days=28),
    )
    version.content_hash = digest(plan_version_payload(version))
    version.status = RecordStatus.SIGNED
    version.signed_at = signed_at
    version.save(update_fields=["content_hash", "status", "signed_at"])
    signature_add(
        target=version,
        role=SignerRole.AUTHOR,
        method=SignatureMethod.SESSION,
        at=signed_at,
        signer=counselor,
    )
    audit_write(
        "records.plan.signed",
        actor=counselor,
        patient_id=enrollment.patient_id,
        site_id=site.pk,
        obj=version,
    )
    ctx.log.append("records: a signed plan of the counselor waits for the director's co-sign")


def _group_waiting(ctx: DemoContext, counselor: User) -> None:
    if group_notes_awaiting_cosign().filter(author=counselor).exists():
        return
    # The counselor's latest held group with patients present and no note yet.
    present = Attendance.objects.filter(session=OuterRef("pk"), status__in=ATTENDED_STATUSES)
    session = (
        Session.objects.filter(
            facilitator=counselor,
            track__isnull=False,
            status=SessionStatus.SCHEDULED,
            ends_at__lte=ctx.now,
            clinical_note__isnull=True,
        )
        .filter(Exists(present))
        .select_related("site")
        .order_by("-starts_at")
        .first()
    )
    if session is None:
        return
    site = session.site
    signed_at = session.ends_at + timedelta(hours=2)
    group = GroupNote.objects.create(
        session=session,
        author=counselor,
        topic=session.topic,
        service_type=ServiceType.GROUP_COUNSELING,
        shared_text="Group practised urge surfing and shared one high-risk situation each.",
        created_at=session.ends_at,
        updated_at=session.ends_at,
    )
    attendances = session.attendance.filter(status__in=ATTENDED_STATUSES).select_related("patient")
    for attendance in attendances:
        note = ProgressNote(
            patient=attendance.patient,
            site=site,
            kind=NoteKind.GROUP,
            service_type=group.service_type,
            session=session,
            group_note=group,
            attendance=attendance,
            attendance_status=attendance.status,
            minutes=attendance.minutes_credited,
            service_date=session.local_date,
            starts_at=session.starts_at,
            ends_at=session.ends_at,
            shared_text=group.shared_text,
            topic=group.topic,
            response="Took part; named a plan for the weekend.",
            author=counselor,
            author_credentials=author_credentials(counselor),
            created_at=signed_at,
            updated_at=signed_at,
            due_on=note_due_on(site, session.local_date, group.service_type),
            requires_cosign=True,
        )
        note.save()
        note.content_hash = digest(note_payload(note))
        note.status = RecordStatus.SIGNED
        note.signed_at = signed_at
        note.save(update_fields=["content_hash", "status", "signed_at"])
        signature_add(
            target=note,
            role=SignerRole.AUTHOR,
            method=SignatureMethod.SESSION,
            at=signed_at,
            signer=counselor,
        )
    group.content_hash = digest(group_note_payload(group))
    group.status = RecordStatus.SIGNED
    group.signed_at = signed_at
    group.save(update_fields=["content_hash", "status", "signed_at"])
    audit_write(
        "records.group_note.signed",
        actor=counselor,
        patient_id=None,
        site_id=site.pk,
        obj=group,
    )
    ctx.log.append("records: a signed group note of the counselor waits for the co-sign")
