"""Bulk clinical record for ``seed_scale``: a treatment plan per active episode (the
initial version and a review every 30 days, each with two problems, their goals,
objectives and interventions; some reviews overdue, some drafts), a weekly individual
note per patient over the history (the last days' still drafts, the unlicensed
counselor's waiting for a co-signature, older ones co-signed), and the group notes of the
last weeks' held sessions with one attendee note per present patient.

Bypasses the services (one round trip, one hash read and one audit row per write) on
purpose: this is benchmark data. Hashes cover a compact payload built here, not the
services' payload, so ``verify_signature`` does not hold for these rows; nothing in the
benchmark verifies them.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING

from core.models import User
from patients.models import Enrollment
from records.models import (
    GroupNote,
    NoteKind,
    NoteObjective,
    ObjectiveStatus,
    PlanGoal,
    PlanIntervention,
    PlanObjective,
    PlanProblem,
    PlanVersion,
    PlanVersionKind,
    ProgressNote,
    RecordStatus,
    ServiceType,
    Signature,
    SignatureMethod,
    SignerRole,
    TreatmentPlan,
)
from records.signing import digest
from scheduling.models import ATTENDED_STATUSES, Attendance, Session, SessionStatus

if TYPE_CHECKING:
    from bench.scale import ScaleContext

BATCH = 5000
GROUP_WEEKS = 4  # group notes for the last weeks' sessions (older ones: attendance only)
DRAFT_DAYS = 3  # individual notes this recent are still drafts
COSIGN_AFTER_DAYS = 14  # the supervisor has co-signed notes older than this

PROBLEMS = [
    (5, "Returned to use twice in the month before admission.", "I want to stay clean."),
    (6, "Lives with a partner who uses.", "I want a safe place to live."),
    (3, "Anxiety and poor sleep.", "I want to sleep through the night."),
    (4, "Unsure treatment will help.", "I want to see if this works for me."),
]
OBJECTIVES = [
    "Attend 3 mutual-help meetings a week and log them.",
    "Name three triggers and a coping plan for each.",
    "Keep a sleep diary for two weeks.",
    "Meet the housing case manager and apply for two places.",
]


def _hash(kind: str, pk: int, stamp: datetime) -> str:
    return digest({"bench": kind, "id": pk, "at": stamp.isoformat()})


def _signed_at(day: date, tz: tzinfo, hour: int = 16) -> datetime:
    return datetime.combine(day, time(hour, 30), tzinfo=tz)


def _plans(
    ctx: ScaleContext, active: list[tuple[int, int, int, str, date]], tz: dict[int, tzinfo]
) -> tuple[int, dict[int, int]]:
    """Plans and versions; returns (versions made, patient_id -> an objective of the
    version in force)."""
    counselor, licensed = ctx.staff["counselor"], ctx.staff["counselor2"]
    director = ctx.staff["director"]
    plans = [
        TreatmentPlan(enrollment_id=e, patient_id=p, created_at=ctx.now) for e, p, _, _, _ in active
    ]
    TreatmentPlan.objects.bulk_create(plans, batch_size=BATCH)
    versions: list[PlanVersion] = []
    for n, (plan, (_, _, site_id, level, admitted)) in enumerate(zip(plans, active, strict=True)):
        author = counselor if n % 3 == 0 else licensed
        number, day = 1, admitted + timedelta(days=5)
        # Every 10th patient's latest review is overdue; every 20th has a review drafted.
        last_review = ctx.today - timedelta(days=40 if n % 10 == 0 else 10)
        while day <= ctx.today and (number == 1 or day <= last_review):
            at = _signed_at(day, tz[site_id])
            cosigned = author == counselor and day < ctx.today - timedelta(days=COSIGN_AFTER_DAYS)
            versions.append(
                PlanVersion(
                    plan=plan,
                    number=number,
                    kind=PlanVersionKind.INITIAL if number == 1 else PlanVersionKind.REVIEW,
                    level=level,
                    strengths="Supportive sister; steady job; motivated by family.",
                    preferences="Evening groups; prefers a female counselor.",
                    author=author,
                    created_at=at - timedelta(hours=2),
                    updated_at=at,
                    status=RecordStatus.COSIGNED if cosigned else RecordStatus.SIGNED,
                    signed_at=at,
                    author_credentials="CADC-T" if author == counselor else "LMHC",
                    requires_cosign=author == counselor,
                    content_hash=_hash("plan", plan.pk * 100 + number, at),
                    cosigned_at=at + timedelta(days=3) if cosigned else None,
                    cosigned_by=director if cosigned else None,
                )
            )
            number += 1
            day += timedelta(days=30)
        # A patient admitted in the last days has a first plan in progress.
        if number == 1 or n % 20 == 0:
            versions.append(
                PlanVersion(
                    plan=plan,
                    number=number,
                    kind=PlanVersionKind.INITIAL if number == 1 else PlanVersionKind.REVIEW,
                    level=level,
                    strengths="Supportive sister; steady job.",
                    author=author,
                    created_at=ctx.now,
                    updated_at=ctx.now,
                )
            )
    # The database refuses parts for a signed version and a second draft of a plan, as
    # it would the services: each round inserts the plans' version N as drafts, their
    # parts, then signs them.
    signed_fields = ["status", "signed_at", "content_hash", "cosigned_at", "cosigned_by"]
    objectives: list[PlanObjective] = []
    for number in sorted({v.number for v in versions}):
        batch = [v for v in versions if v.number == number]
        final = {id(v): [getattr(v, f) for f in signed_fields] for v in batch}
        for v in batch:
            v.status, v.signed_at, v.content_hash = RecordStatus.DRAFT, None, ""
            v.cosigned_at, v.cosigned_by = None, None
        PlanVersion.objects.bulk_create(batch, batch_size=BATCH)
        objectives += _parts(batch)
        for v in batch:
            for f, value in zip(signed_fields, final[id(v)], strict=True):
                setattr(v, f, value)
        PlanVersion.objects.bulk_update(
            [v for v in batch if v.signed_at is not None], signed_fields, batch_size=BATCH
        )
    version_by_pk = {v.pk: v for v in versions}
    signatures = [
        Signature(
            plan_version=v,
            role=SignerRole.AUTHOR,
            method=SignatureMethod.SESSION,
            signer=v.author,
            signer_name=str(v.author),
            signer_credentials=v.author_credentials,
            signed_at=v.signed_at,
            content_hash=v.content_hash,
        )
        for v in versions
        if v.signed_at is not None
    ] + [
        Signature(
            plan_version=v,
            role=SignerRole.COSIGNER,
            method=SignatureMethod.SESSION,
            signer=director,
            signer_name=str(director),
            signer_credentials="LCSW",
            signed_at=v.cosigned_at,
            content_hash=v.content_hash,
        )
        for v in versions
        if v.cosigned_at is not None
    ]
    Signature.objects.bulk_create(signatures, batch_size=BATCH)
    # The objective a note addresses: the first one of the latest signed version.
    in_force: dict[int, int] = {}
    patient_of_plan = {plan.pk: plan.patient_id for plan in plans}
    for o in sorted(objectives, key=lambda o: o.version_id):
        v = version_by_pk[o.version_id]
        if v.signed_at is not None and o.position == 0:
            in_force[patient_of_plan[v.plan.pk]] = o.pk
    return len(versions), in_force


def _parts(versions: list[PlanVersion]) -> list[PlanObjective]:
    """Problems, goals, objectives and interventions of draft versions."""
    problems = [
        PlanProblem(
            version=v,
            position=i,
            dimension=PROBLEMS[(v.pk + i) % 4][0],
            description=PROBLEMS[(v.pk + i) % 4][1],
        )
        for v in versions
        for i in range(2)
    ]
    PlanProblem.objects.bulk_create(problems, batch_size=BATCH)
    goals = [
        PlanGoal(version_id=p.version_id, problem=p, position=0, text=PROBLEMS[(p.pk or 0) % 4][2])
        for p in problems
    ]
    PlanGoal.objects.bulk_create(goals, batch_size=BATCH)
    version_by_pk = {v.pk: v for v in versions}
    objectives = []
    for g in goals:
        made = version_by_pk[g.version_id].created_at.date()
        for i in range(2):
            objectives.append(
                PlanObjective(
                    version_id=g.version_id,
                    goal=g,
                    position=i,
                    text=OBJECTIVES[(g.pk + i) % len(OBJECTIVES)],
                    target_date=made + timedelta(days=30),
                    status=ObjectiveStatus.ACTIVE if i == 0 else ObjectiveStatus.MET,
                )
            )
    PlanObjective.objects.bulk_create(objectives, batch_size=BATCH)
    PlanIntervention.objects.bulk_create(
        [
            PlanIntervention(
                version_id=o.version_id,
                objective=o,
                service_type=ServiceType.GROUP_CBT
                if o.position == 0
                else ServiceType.INDIVIDUAL_COUNSELING,
                frequency="3 groups a week" if o.position == 0 else "Weekly",
                responsible=version_by_pk[o.version_id].author,
            )
            for o in objectives
        ],
        batch_size=BATCH,
    )
    return objectives


def _individual_notes(
    ctx: ScaleContext,
    active: list[tuple[int, int, int, str, date]],
    tz: dict[int, tzinfo],
    objective_of: dict[int, int],
) -> int:
    counselor, licensed = ctx.staff["counselor"], ctx.staff["counselor2"]
    director = ctx.staff["director"]
    notes: list[ProgressNote] = []
    for n, (enrollment_id, patient_id, site_id, _, admitted) in enumerate(active):
        author = counselor if n % 3 == 0 else licensed
        day = max(admitted, ctx.start) + timedelta(days=n % 5)
        while day < ctx.today:
            starts = datetime.combine(day, time(10 + n % 6, 0), tzinfo=tz[site_id])
            draft = day >= ctx.today - timedelta(days=DRAFT_DAYS)
            signed = None if draft else starts + timedelta(hours=4 + (n % 3) * 30)
            late = signed is not None and signed.date() > day + timedelta(days=4)
            cosigned = (
                not draft
                and author == counselor
                and day < ctx.today - timedelta(days=COSIGN_AFTER_DAYS)
            )
            notes.append(
                ProgressNote(
                    patient_id=patient_id,
                    enrollment_id=enrollment_id,
                    site_id=site_id,
                    kind=NoteKind.INDIVIDUAL,
                    format="DAP",
                    service_type=ServiceType.INDIVIDUAL_COUNSELING,
                    service_date=day,
                    starts_at=starts,
                    ends_at=starts + timedelta(minutes=50),
                    data="Reports two days of cravings after a family visit; no use.",
                    assessment="Engaged; applying the coping plan; risk moderate.",
                    plan="Continue weekly sessions; review the trigger list next week.",
                    response="Named two triggers and practised urge surfing.",
                    author=author,
                    author_credentials="CADC-T" if author == counselor else "LMHC",
                    created_at=starts + timedelta(hours=1),
                    updated_at=signed or starts + timedelta(hours=1),
                    due_on=day + timedelta(days=4),
                    status=(
                        RecordStatus.DRAFT
                        if draft
                        else RecordStatus.COSIGNED
                        if cosigned
                        else RecordStatus.SIGNED
                    ),
                    signed_at=signed,
                    is_late=late,
                    requires_cosign=not draft and author == counselor,
                    content_hash="" if draft else _hash("note", n * 1000 + len(notes), starts),
                    cosigned_at=signed + timedelta(days=2) if cosigned and signed else None,
                    cosigned_by=director if cosigned else None,
                )
            )
            day += timedelta(days=7)
    # The objectives a note addressed are written while it is a draft (the database
    # refuses them on a signed note), then the note is signed.
    signed_fields = ["status", "signed_at", "content_hash", "cosigned_at", "cosigned_by"]
    final = {id(n): [getattr(n, f) for f in signed_fields] for n in notes}
    for note in notes:
        note.status, note.signed_at, note.content_hash = RecordStatus.DRAFT, None, ""
        note.cosigned_at, note.cosigned_by = None, None
    ProgressNote.objects.bulk_create(notes, batch_size=BATCH)
    NoteObjective.objects.bulk_create(
        [
            NoteObjective(note=note, objective_id=objective_of[note.patient_id])
            for note in notes
            if note.patient_id in objective_of
        ],
        batch_size=BATCH,
    )
    for note in notes:
        for f, value in zip(signed_fields, final[id(note)], strict=True):
            setattr(note, f, value)
    ProgressNote.objects.bulk_update(
        [n for n in notes if n.signed_at is not None], signed_fields, batch_size=BATCH
    )
    _signatures_for(notes, director)
    return len(notes)


def _signatures_for(notes: list[ProgressNote], director: User) -> None:
    names = {u.pk: str(u) for u in User.objects.filter(pk__in={n.author_id for n in notes})}
    rows = [
        Signature(
            note=note,
            role=SignerRole.AUTHOR,
            method=SignatureMethod.SESSION,
            signer_id=note.author_id,
            signer_name=names[note.author_id],
            signer_credentials=note.author_credentials,
            signed_at=note.signed_at,
            content_hash=note.content_hash,
        )
        for note in notes
        if note.signed_at is not None
    ] + [
        Signature(
            note=note,
            role=SignerRole.COSIGNER,
            method=SignatureMethod.SESSION,
            signer=director,
            signer_name=str(director),
            signer_credentials="LCSW",
            signed_at=note.cosigned_at,
            content_hash=note.content_hash,
        )
        for note in notes
        if note.cosigned_at is not None
    ]
    Signature.objects.bulk_create(rows, batch_size=BATCH)


def _group_notes(ctx: ScaleContext) -> tuple[int, int]:
    director = ctx.staff["director"]
    since = ctx.today - timedelta(weeks=GROUP_WEEKS)
    sessions = list(
        Session.objects.filter(
            site__in=ctx.sites,
            track__isnull=False,
            local_date__gte=since,
            ends_at__lte=ctx.now,
            status=SessionStatus.SCHEDULED,
            facilitator__isnull=False,
            clinical_note__isnull=True,
        ).select_related("facilitator__staff_profile")
    )
    groups = []
    for session in sessions:
        signed = session.ends_at + timedelta(hours=3)
        groups.append(
            GroupNote(
                session=session,
                author=session.facilitator,
                topic=session.topic,
                shared_text="Reviewed high-risk situations; role-played refusal skills.",
                status=RecordStatus.SIGNED,
                created_at=session.ends_at,
                updated_at=signed,
                signed_at=signed,
                content_hash=_hash("group", session.pk, signed),
            )
        )
    GroupNote.objects.bulk_create(groups, batch_size=BATCH)
    group_of = {g.session_id: g for g in groups}
    session_of = {s.pk: s for s in sessions}
    attended = Attendance.objects.filter(
        session__in=sessions, status__in=list(ATTENDED_STATUSES)
    ).values_list("pk", "session_id", "patient_id", "status", "minutes_credited")
    notes = []
    for attendance_id, session_id, patient_id, status, minutes in attended.iterator():
        session, group = session_of[session_id], group_of[session_id]
        profile = session.facilitator.staff if session.facilitator else None
        notes.append(
            ProgressNote(
                patient_id=patient_id,
                site_id=session.site_id,
                kind=NoteKind.GROUP,
                service_type=ServiceType.GROUP_COUNSELING,
                session=session,
                group_note=group,
                attendance_id=attendance_id,
                attendance_status=status,
                minutes=minutes,
                service_date=session.local_date,
                starts_at=session.starts_at,
                ends_at=session.ends_at,
                topic=session.topic,
                shared_text=group.shared_text,
                response="Shared a recent high-risk moment; practised a refusal.",
                author_id=group.author_id,
                author_credentials=profile.credentials if profile else "",
                created_at=group.signed_at,
                updated_at=group.signed_at,
                due_on=session.local_date + timedelta(days=4),
                status=RecordStatus.SIGNED,
                signed_at=group.signed_at,
                requires_cosign=bool(profile and not profile.licensed),
                content_hash=_hash("attendee", attendance_id, session.ends_at),
            )
        )
    ProgressNote.objects.bulk_create(notes, batch_size=BATCH)
    _signatures_for(notes, director)
    return len(groups), len(notes)


def seed_scale(ctx: ScaleContext) -> None:
    if TreatmentPlan.objects.filter(enrollment__site__in=ctx.sites).exists():
        ctx.log.append("records: already seeded")
        return
    tz = {site.pk: site.tz for site in ctx.sites}
    active = list(
        Enrollment.objects.filter(site__in=ctx.sites, status="active")
        .order_by("patient_id")
        .values_list("pk", "patient_id", "site_id", "level", "admission_date")
    )
    versions, objective_of = _plans(ctx, active, tz)
    individual = _individual_notes(ctx, active, tz, objective_of)
    groups, attendee = _group_notes(ctx)
    ctx.log.append(
        f"records: {len(active)} plans with {versions} versions, {individual} individual "
        f"notes, {groups} group notes with {attendee} attendee notes"
    )
