"""The demo clinic's progress notes: signed individual notes by a licensed counselor
(counselor2) and by the counselor-in-training (counselor: they wait for the director's
co-signature, left waiting on purpose; every note of theirs in the demo does), a family
note, a MAT visit by the nurse, two drafts (counselor2's, and the nurse's overdue one), a
late entry and an addendum. A note names an objective of the
patient's plan when the plans step (which runs first) made one in force.

Deterministic (dates from the seed's "now", patients in id order) and idempotent (skipped
once its addendum exists)."""

from __future__ import annotations

from datetime import date, time, timedelta

from core.clock import local_datetime
from core.demo import DEMO_STEPS, DemoContext
from core.models import User
from patients.models import OPEN_STATUSES, MedicationOrder, Patient

from ..clocks import business_days_after
from ..models import FORMAT_SECTIONS, Addendum, ProgressNote
from ..selectors.common import objectives_for_notes
from ..services.notes import note_sign, note_start, note_update
from ..services.signoff import addendum_add

CORRECTION = "Correction: the sponsor's name is Sam, not Pam. The rest stands as written."
TEXT = {
    "data": "Arrived on time. Talked about the week at work and two evenings with cravings.",
    "behavior": "Calm, engaged; described the weekend's triggers in detail.",
    "subjective": "Reports sleeping better; cravings twice this week, both after work.",
    "objective": "Alert, oriented; dose taken as prescribed; no signs of withdrawal.",
    "intervention": "Reviewed the trigger log; practised urge surfing; role-played a refusal.",
    "assessment": "Progressing on the plan's objectives; insight into triggers is growing.",
    "response": "Agreed to call the sponsor after work on weekdays and to keep the log.",
    "plan": "Next individual session next week; group three times a week as planned.",
}


def _patients(ctx: DemoContext, counselor: User, *, admitted_before: date) -> list[Patient]:
    """The counselor's patients in care long enough to have a few weeks of notes."""
    return list(
        Patient.objects.filter(
            organization=ctx.organization,
            primary_counselor=counselor,
            enrollments__status__in=OPEN_STATUSES,
            enrollments__admission_date__lte=admitted_before,
        )
        .select_related("site")
        .distinct()
        .order_by("pk")
    )


def _write(
    ctx: DemoContext,
    author: User,
    patient: Patient,
    *,
    days_ago: int,
    kind: str = "individual",
    fmt: str = "DAP",
    service_type: str = "individual_counseling",
    hour: int = 10,
    sign: str = "on_time",  # on_time, late, or draft
    complete: bool = True,
) -> ProgressNote:
    site = patient.site
    day = ctx.today - timedelta(days=days_ago)
    starts = local_datetime(day, time(hour, 0), site.tz)
    note = note_start(
        actor=author,
        patient=patient,
        kind=kind,
        format=fmt,
        service_type=service_type,
        service_date=day,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=50),
        now=min(ctx.now, starts + timedelta(hours=1)),
    )
    objectives = list(objectives_for_notes(patient).values_list("pk", flat=True)[:1])
    names = FORMAT_SECTIONS[fmt] if complete else FORMAT_SECTIONS[fmt][:1]
    note = note_update(
        actor=author,
        note=note,
        sections={name: TEXT[name] for name in names},
        objective_ids=objectives,
        now=min(ctx.now, starts + timedelta(hours=2)),
    )
    if sign == "on_time":
        # Signed the evening of the service (or now, for a service earlier today).
        evening = local_datetime(day, time(18, 0), site.tz)
        note = note_sign(actor=author, note=note, now=min(ctx.now, evening))
    elif sign == "late":
        note = note_sign(actor=author, note=note, now=ctx.now)
    return note


def _late_days_ago(ctx: DemoContext, patient: Patient) -> int:
    """A service far enough back that its note, signed today, is past its due day."""
    days = 8
    while business_days_after(patient.site, ctx.today - timedelta(days=days), 3) >= ctx.today:
        days += 1
    return days


@DEMO_STEPS.register("history", order=70)
def seed(ctx: DemoContext) -> None:
    # Other steps (the queue's, the groups') write notes too: this step knows its own by
    # the addendum it writes last but one.
    if Addendum.objects.filter(note__site__organization=ctx.organization, text=CORRECTION).exists():
        return
    # Read afresh: the users in ctx carry the staff profiles as they were before
    # seed_core set credentials and licences with an UPDATE.
    staff = {
        u.username: u
        for u in User.objects.select_related("staff_profile").filter(
            username__in=("counselor", "counselor2", "nurse")
        )
    }
    counselor, counselor2, nurse = staff["counselor"], staff["counselor2"], staff["nurse"]
    weeks_ago = ctx.today - timedelta(days=21)
    riverside = _patients(ctx, counselor, admitted_before=weeks_ago)
    bayview = _patients(ctx, counselor2, admitted_before=weeks_ago)
    if len(riverside) < 3 or len(bayview) < 2:
        ctx.log.append("Notes: skipped (too few patients in care for three weeks).")
        return
    # counselor2 is licensed: signed notes that need no co-signature, a family note,
    # an addendum on one of them, and a draft due later this week.
    first = _write(ctx, counselor2, bayview[0], days_ago=14, fmt="BIRP")
    _write(ctx, counselor2, bayview[0], days_ago=7, fmt="SOAP", hour=14)
    _write(
        ctx,
        counselor2,
        bayview[1],
        days_ago=6,
        kind="family",
        service_type="family_counseling",
        hour=16,
    )
    addendum_add(
        actor=counselor2,
        target=first,
        text=CORRECTION,
        reason="Name misheard in session",
        now=ctx.now,
    )
    _write(ctx, counselor2, bayview[1], days_ago=1, sign="draft", complete=False)
    # The counselor is in training: their signed notes wait for the director.
    _write(ctx, counselor, riverside[0], days_ago=6)
    _write(ctx, counselor, riverside[1], days_ago=5, fmt="SOAP", hour=11)
    # A late entry: signed today, days after its due day.
    _write(ctx, counselor, riverside[2], days_ago=_late_days_ago(ctx, riverside[2]), sign="late")
    # A MAT visit by the nurse, for a patient on medication if there is one.
    on_mat = (
        MedicationOrder.objects.filter(patient__in=riverside, stop_date__isnull=True)
        .order_by("patient_id")
        .values_list("patient_id", flat=True)
        .first()
    )
    mat_patient = next((p for p in riverside if p.pk == on_mat), riverside[0])
    _write(
        ctx,
        nurse,
        mat_patient,
        days_ago=2,
        kind="mat",
        fmt="SOAP",
        service_type="medication_management",
        hour=9,
    )
    # An overdue draft: a MAT visit two weeks ago whose note is still not signed.
    _write(
        ctx,
        nurse,
        mat_patient,
        days_ago=15,
        kind="mat",
        service_type="medication_management",
        hour=15,
        sign="draft",
        complete=False,
    )
    ctx.log.append(
        "Notes: signed notes (two waiting for a co-signature), a family note, a MAT visit, "
        "two drafts (one overdue), a late entry and an addendum."
    )
