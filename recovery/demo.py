"""Demo meetings and homework: requirements per site and phase, a homework library,
meetings (pending, verified, one rejected), sponsors and step work, and homework at
every status. Written through the services, so audit rows and rules apply."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from core.demo import DEMO_STEPS, DemoContext
from core.models import Site, User
from patients.models import OPEN_STATUSES, Patient, ProgramPhase

from .models import Fellowship, HomeworkTemplate, Meeting, MeetingRequirement
from .services.homework import (
    homework_assign,
    homework_review,
    homework_submit,
    homework_template_create,
)
from .services.meetings import meeting_log, meeting_requirement_set, meeting_review
from .services.twelve_step import sponsor_set, step_set
from .uploads import as_bytes_upload

# (phase number or None for the site default, meetings per week, fellowships that count)
REQUIREMENTS: list[tuple[int | None, int, list[str]]] = [
    (None, 3, []),
    (1, 3, []),
    (2, 3, []),
    (3, 2, []),
]
LIBRARY = [
    ("Step 1 worksheet", "Write about three times your use made life unmanageable."),
    ("Relapse prevention plan", "List your triggers, warning signs and who you will call."),
    (
        "Triggers and cravings log",
        "Each day, note any craving: time, place, strength 1-10, what you did.",
    ),
    ("Decisional balance", "Write the pros and cons of using and of staying in recovery."),
    ("Gratitude journal", "Write three things you are grateful for each evening this week."),
]
MEETINGS = [
    (Fellowship.AA, "Big Book Study", "in_person", "St. Mark's Church hall"),
    (Fellowship.NA, "Clean and Serene", "online", ""),
    (Fellowship.SMART, "SMART Tuesday", "online", ""),
    (Fellowship.CA, "Hope on Main", "in_person", "Community center, room 2"),
    (Fellowship.CELEBRATE, "Celebrate Recovery", "in_person", "Grace Fellowship"),
]
SPONSORS = ["Lee R.", "Jo K.", "Sam T.", "Pat D.", "Chris M."]
WORKSHEET = (
    b"Step 1 worksheet\n\n1. When did you first feel your use was out of control?\n"
    b"2. What have you lost because of it?\n3. What does 'powerless' mean to you?\n"
)
SHEET_PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x00\x00\x00"
    b"\x00:~\x9bU\x00\x00\x00\nIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)


def _counselor(ctx: DemoContext, site: Site) -> User:
    return ctx.staff["counselor"] if site.code == "riverside" else ctx.staff["counselor2"]


@DEMO_STEPS.register("setup", order=40)
def seed_setup(ctx: DemoContext) -> None:
    for site in ctx.sites.values():
        phases = {p.number: p for p in ProgramPhase.objects.filter(site=site)}
        for number, per_week, fellowships in REQUIREMENTS:
            phase = phases.get(number) if number else None
            if number and phase is None:
                continue
            if not MeetingRequirement.objects.filter(site=site, phase=phase).exists():
                meeting_requirement_set(
                    actor=ctx.staff["director"],
                    site=site,
                    phase=phase,
                    meetings_per_week=per_week,
                    fellowships=fellowships,
                )
        for i, (title, instructions) in enumerate(LIBRARY):
            if HomeworkTemplate.objects.filter(site=site, title=title).exists():
                continue
            homework_template_create(
                actor=_counselor(ctx, site),
                site=site,
                title=title,
                instructions=instructions,
                worksheet=as_bytes_upload(WORKSHEET, "step1-worksheet.txt") if i == 0 else None,
                now=ctx.now,
            )


def _local(ctx: DemoContext, site: Site, day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=site.tz)


@DEMO_STEPS.register("history", order=40)
def seed(ctx: DemoContext) -> None:
    if Meeting.objects.filter(site__organization=ctx.organization).exists():
        return
    rejected_one = False
    library = {
        site.pk: list(HomeworkTemplate.objects.filter(site=site).order_by("pk"))
        for site in ctx.sites.values()
    }
    for n, patient in enumerate(ctx.patients, start=1):
        enrollment = patient.enrollments.filter(status__in=OPEN_STATUSES).first()
        if enrollment is None or patient.user_id is None or n > 30:
            continue
        site = patient.site
        counselor = _counselor(ctx, site)
        today = ctx.today
        first_day = max(enrollment.admission_date, today - timedelta(days=13))
        # Meetings over the last two weeks: older ones checked, recent ones pending.
        for k in range(2 + n % 4):
            day = first_day + timedelta(days=(k * 3 + n) % max(1, (today - first_day).days + 1))
            held = _local(ctx, site, day, 12 + (k % 3) * 3)
            if held > ctx.now:
                held = ctx.now - timedelta(hours=2 + k)
            if held.astimezone(site.tz).date() < enrollment.admission_date:
                continue
            fellowship, name, mode, place = MEETINGS[(n + k) % len(MEETINGS)]
            meeting = meeting_log(
                actor=patient.user if k % 2 == 0 else counselor,
                patient=patient,
                held_at=held,
                fellowship=fellowship,
                name=name,
                mode=mode,
                place=place,
                chair_name="Secretary on duty" if mode == "in_person" else "",
                sheet=as_bytes_upload(SHEET_PNG, "sheet.png") if k == 0 and n % 3 == 0 else None,
                now=ctx.now,
            )
            if (today - day).days >= 3:
                if not rejected_one and n % 5 == 2:
                    meeting_review(
                        actor=counselor,
                        meeting=meeting,
                        verify=False,
                        reason="The sheet has no signature; please bring the signed card.",
                        now=ctx.now,
                    )
                    rejected_one = True
                else:
                    meeting_review(actor=counselor, meeting=meeting, verify=True, now=ctx.now)
        if n % 3 != 2:
            sponsor_set(
                actor=counselor,
                patient=patient,
                name=SPONSORS[n % len(SPONSORS)],
                phone=f"(201) 555-02{n:02d}",
                since=enrollment.admission_date,
                now=ctx.now,
            )
            step_set(
                actor=counselor,
                patient=patient,
                step=1 + n % 4,
                started_on=enrollment.admission_date,
                now=ctx.now,
            )
        _seed_homework(ctx, patient, counselor, library[site.pk], n)
    ctx.log.append("Recovery: meetings, sponsors and homework at every status.")


def _seed_homework(
    ctx: DemoContext,
    patient: Patient,
    counselor: User,
    templates: list[HomeworkTemplate],
    n: int,
) -> None:
    """Five pieces of homework, one at each status (overdue = assigned, due in the past)."""
    today = ctx.today
    latest = patient.enrollments.order_by("-admission_date").first()
    # The caller passes only patients with an open enrollment and a portal account.
    assert latest is not None and patient.user is not None
    admitted = latest.admission_date
    earlier = max(ctx.now - timedelta(days=10), _local(ctx, patient.site, admitted, 12))
    plan = [
        ("assigned", templates[0], today + timedelta(days=4 + n % 3)),
        ("overdue", templates[1], today - timedelta(days=2)),
        ("submitted", templates[2], today + timedelta(days=2)),
        ("returned", templates[3], today + timedelta(days=5)),
        ("accepted", templates[4], today - timedelta(days=1)),
    ]
    # Fewer for most patients keeps the demo quick; every status still shows up.
    if n % 4:
        plan = plan[n % 4 : n % 4 + 2]
    for status, template, due in plan:
        assignment = homework_assign(
            actor=counselor, patient=patient, template=template, due_date=due, now=earlier
        )
        if status in ("assigned", "overdue"):
            continue
        submission = homework_submit(
            actor=patient.user,
            assignment=assignment,
            text="Here is my work for this week.",
            now=earlier + timedelta(days=2),
        )
        if status == "returned":
            homework_review(
                actor=counselor,
                submission=submission,
                accept=False,
                comment="Good start. Please add one example from this week.",
                now=earlier + timedelta(days=3),
            )
        elif status == "accepted":
            homework_review(
                actor=counselor,
                submission=submission,
                accept=True,
                comment="Thank you, well done.",
                now=earlier + timedelta(days=3),
            )
