"""Demo group notes: at each site, signed group notes for a few recent held group
sessions, written through the services by the session's facilitator (Riverside's
counselor, a counselor-in-training whose notes wait for the director's co-signature, left
waiting; Bayview's counselor2, licensed), and one draft for the most recent session.
Deterministic; a session that already has a group note is left alone."""

from __future__ import annotations

from datetime import timedelta

from core.demo import DEMO_STEPS, DemoContext
from scheduling.models import ATTENDED_STATUSES, Attendance, Session, SessionStatus

from ..models import GroupNote
from ..services.groups import default_service_type, group_note_save, group_note_sign

SIGNED_PER_SITE = 3
SHARED = [
    "Reviewed triggers and high-risk situations; role-played refusal skills.",
    "Check-in round; discussed cravings over the weekend and coping plans.",
    "Psychoeducation on the stages of change; decisional balance worksheet.",
    "Mindfulness exercise; distress tolerance (TIPP) practice.",
]
PARTS = [
    "Named two triggers at work and practised a refusal script with a peer.",
    "Quiet at first; later shared a coping plan for the weekend and asked for feedback.",
]


def _write(ctx: DemoContext, session: Session, i: int, *, sign: bool) -> bool:
    present = list(
        Attendance.objects.filter(session=session, status__in=ATTENDED_STATUSES)
        .order_by("patient_id")
        .values_list("patient_id", flat=True)
    )
    facilitator = session.facilitator
    if facilitator is None or not present:
        return False
    written_at = session.ends_at + timedelta(hours=1)
    group_note_save(
        actor=facilitator,
        session=session,
        topic=session.topic,
        service_type=default_service_type(session),
        shared_text=SHARED[i % len(SHARED)],
        entries=dict(zip(present, PARTS, strict=False)),
        now=written_at,
    )
    if sign:
        group_note_sign(actor=facilitator, session=session, now=written_at)
    return True


@DEMO_STEPS.register("history", order=38)
def seed(ctx: DemoContext) -> None:
    signed = drafts = 0
    for site in ctx.sites.values():
        # The latest held group sessions with attendance, newest first: the newest stays
        # a draft, the ones before it are signed.
        recent = list(
            Session.objects.filter(
                site=site,
                track__isnull=False,
                status=SessionStatus.SCHEDULED,
                local_date__lt=ctx.today,
                local_date__gte=ctx.today - timedelta(days=14),
                attendance__status__in=ATTENDED_STATUSES,
            )
            .select_related("site", "facilitator", "track")
            .distinct()
            .order_by("-starts_at", "-pk")[: SIGNED_PER_SITE + 1]
        )
        for i, session in enumerate(recent):
            if GroupNote.objects.filter(session=session).exists():
                continue
            if _write(ctx, session, i, sign=i > 0):
                signed += i > 0
                drafts += i == 0
    ctx.log.append(
        f"Records: {signed} signed group notes (the counselor's wait for a co-signature) "
        f"and {drafts} drafts."
    )
