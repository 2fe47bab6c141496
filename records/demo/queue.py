"""The demo's co-signature waiting: the director's queue always has one.

The notes and plans steps leave the counselor's (a counselor-in-training) signed notes
and plans waiting for the director; this step runs after them and, only when nothing of
the counselor's waits, signs one individual note of the counselor's caseload so that the
director's queue and its Co-sign button are there to see (idempotent).
"""

from __future__ import annotations

from datetime import time, timedelta

from django.db import transaction

from core.clock import local_datetime
from core.demo import DEMO_STEPS, DemoContext
from patients.models import OPEN_STATUSES, Enrollment

from ..clocks import note_due_on
from ..models import (
    NoteFormat,
    NoteKind,
    ProgressNote,
    RecordStatus,
    ServiceType,
    SignatureMethod,
    SignerRole,
)
from ..services._common import audit_write
from ..signing import author_credentials, digest, note_payload, signature_add


@DEMO_STEPS.register("history", order=48)
@transaction.atomic
def seed_cosign_waiting(ctx: DemoContext) -> None:
    counselor = ctx.staff["counselor"]
    waiting = ProgressNote.objects.filter(
        author=counselor, status=RecordStatus.SIGNED, requires_cosign=True
    )
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
    staff = counselor.staff
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
        requires_cosign=staff is not None and staff.requires_cosign,
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
