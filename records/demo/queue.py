"""The demo's co-signatures waiting: the director's queue always has one of each kind.

The notes, plans and groups steps leave the counselor's (a counselor-in-training) signed
work waiting for the director; this step runs after them and, for each kind (a note, a
plan version, a group note) of which nothing of the counselor's waits, writes and signs
one through the services, so that the director's queue and its Co-sign buttons are there
to see (idempotent).
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

from ..models import (
    AsamDimension,
    NoteFormat,
    NoteKind,
    PlanVersion,
    ProgressNote,
    RecordStatus,
    ServiceType,
)
from ..selectors.queue import group_notes_awaiting_cosign
from ..services.groups import group_note_save, group_note_sign
from ..services.notes import note_sign, note_start, note_update
from ..services.plans import (
    plan_goal_add,
    plan_objective_add,
    plan_problem_add,
    plan_sign,
    plan_start,
    plan_version_update,
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
    note = note_start(
        actor=counselor,
        patient=enrollment.patient,
        kind=NoteKind.INDIVIDUAL,
        format=NoteFormat.DAP,
        service_type=ServiceType.INDIVIDUAL_COUNSELING,
        service_date=day,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=50),
        now=starts + timedelta(hours=1),
    )
    note_update(
        actor=counselor,
        note=note,
        sections={
            "data": "Reviewed the week's cravings log; two high-risk evenings, both managed.",
            "assessment": "Engaged; coping skills used without prompting.",
            "plan": "Continue IOP evening track; practise urge surfing before the next session.",
            "response": "Patient named one new trigger and a plan for it.",
        },
        now=starts + timedelta(hours=1),
    )
    note_sign(actor=counselor, note=note, now=local_datetime(ctx.today, time(8, 30), site.tz))
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
    version = plan_start(actor=counselor, enrollment=enrollment, now=written)
    plan_version_update(
        actor=counselor,
        version=version,
        strengths="Motivated by family; steady job; attends every group.",
        preferences="Evening sessions; prefers a male counselor for individual work.",
        now=written,
    )
    problem = plan_problem_add(
        actor=counselor,
        version=version,
        dimension=AsamDimension.RELAPSE,
        description="Cravings in the evenings after work.",
        now=written,
    )
    goal = plan_goal_add(
        actor=counselor,
        version=version,
        problem_id=problem.pk,
        text="I want to get through my evenings sober.",
        now=written,
    )
    plan_objective_add(
        actor=counselor,
        version=version,
        goal_id=goal.pk,
        text="Uses one coping skill on each high-risk evening, logged daily, for 4 weeks.",
        target_date=ctx.today + timedelta(days=28),
        now=written,
    )
    plan_sign(actor=counselor, version=version, now=local_datetime(ctx.today, time(9, 0), site.tz))
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
        .select_related("site", "track")
        .order_by("-starts_at")
        .first()
    )
    if session is None:
        return
    attended = session.attendance.filter(status__in=ATTENDED_STATUSES)
    group_note_save(
        actor=counselor,
        session=session,
        topic=session.topic,
        service_type=ServiceType.GROUP_COUNSELING,
        shared_text="Group practised urge surfing and shared one high-risk situation each.",
        entries={a.patient_id: "Took part; named a plan for the weekend." for a in attended},
        now=session.ends_at,
    )
    group_note_sign(actor=counselor, session=session, now=session.ends_at + timedelta(hours=2))
    ctx.log.append("records: a signed group note of the counselor waits for the co-sign")
