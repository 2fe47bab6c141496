"""Bulk recovery history for ``seed_scale``: meetings (verified, pending, a few rejected),
sponsors and step work, and weekly homework through its whole review cycle, for every
active patient from admission to today.

Bypasses the services (one round trip and one audit row per write) on purpose: this is
benchmark data, streamed with PostgreSQL COPY (bulk_create elsewhere). The rows obey the
models' constraints: a meeting is logged after it was held, reviewed iff not pending, a
rejection has its reason, an in-person meeting has a place, one round awaits review.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import Model

from patients.models import Enrollment
from recovery.models import (
    AttendanceMode,
    HomeworkAssignment,
    HomeworkStatus,
    HomeworkSubmission,
    HomeworkTemplate,
    Meeting,
    MeetingStatus,
    ReviewOutcome,
    Sponsor,
    StepProgress,
)

if TYPE_CHECKING:
    from bench.scale import ScaleContext

# (patient_id, site_id, admission_date, primary_counselor_id, portal user_id)
Active = tuple[int, int, date, int | None, int | None]

MEETINGS = [
    ("aa", "Big Book Study", AttendanceMode.IN_PERSON, "St. Mark's Church hall"),
    ("na", "Clean and Serene", AttendanceMode.ONLINE, ""),
    ("smart", "SMART Tuesday", AttendanceMode.ONLINE, ""),
    ("ca", "Hope on Main", AttendanceMode.IN_PERSON, "Community center, room 2"),
    ("celebrate", "Celebrate Recovery", AttendanceMode.IN_PERSON, "Grace Fellowship"),
]
SPONSORS = ["Lee R.", "Jo K.", "Sam T.", "Pat D.", "Chris M."]
VERIFY_AFTER_DAYS = 3  # newer meetings still wait for the counselor
REVIEW_AFTER_DAYS = 2  # homework handed in this recently is not reviewed yet


def copy_rows(model: type[Model], fields: list[str], rows: list[tuple[Any, ...]]) -> int:
    """Stream rows into the model's table (COPY on PostgreSQL; bulk_create elsewhere)."""
    if not rows:
        return 0
    if connection.vendor != "postgresql":
        model.objects.bulk_create(
            [model(**dict(zip(fields, row, strict=True))) for row in rows], batch_size=2000
        )
        return len(rows)
    columns = ", ".join(model._meta.get_field(f).column for f in fields)
    sql = f"COPY {model._meta.db_table} ({columns}) FROM STDIN"
    with connection.cursor() as cur, cur.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)
    return len(rows)


def _active(ctx: ScaleContext) -> list[Active]:
    return list(
        Enrollment.objects.filter(site__in=ctx.sites, status="active")
        .order_by("patient_id")
        .values_list(
            "patient_id",
            "site_id",
            "admission_date",
            "patient__primary_counselor_id",
            "patient__user_id",
        )
    )


def _meetings(ctx: ScaleContext, active: list[Active], tz: dict[int, tzinfo]) -> int:
    if Meeting.objects.filter(site__in=ctx.sites).exists():
        return 0
    fields = [
        "patient",
        "site",
        "held_at",
        "fellowship",
        "fellowship_other",
        "name",
        "mode",
        "place",
        "chair_name",
        "notes",
        "status",
        "logged_by",
        "logged_at",
        "reviewed_by",
        "reviewed_at",
        "rejection_reason",
    ]
    rows = []
    for n, (patient_id, site_id, admitted, counselor_id, user_id) in enumerate(active):
        # Most patients meet the weekly requirement; some fall short.
        per_week = (3, 3, 3, 2, 4, 1)[n % 6]
        day = max(admitted, ctx.start)
        k = 0
        while day <= ctx.today:
            for j in range(per_week):
                on = day + timedelta(days=(j * 2 + n) % 7)
                if on > ctx.today:
                    continue
                held = datetime.combine(on, time(12 + 3 * (j % 3), 0), tzinfo=tz[site_id])
                if held >= ctx.now:
                    continue
                fellowship, name, mode, place = MEETINGS[(n + k) % len(MEETINGS)]
                k += 1
                logged = held + timedelta(hours=2 + k % 20)
                logged = min(logged, ctx.now)
                age = (ctx.today - on).days
                status, reviewer, reviewed, reason = MeetingStatus.PENDING, None, None, ""
                if age >= VERIFY_AFTER_DAYS:
                    status, reviewer = MeetingStatus.VERIFIED, counselor_id
                    reviewed = min(logged + timedelta(days=1), ctx.now)
                    if k % 47 == 0:
                        status = MeetingStatus.REJECTED
                        reason = "The sheet has no signature; please bring the signed card."
                rows.append(
                    (
                        patient_id,
                        site_id,
                        held,
                        fellowship,
                        "",
                        name,
                        mode,
                        place,
                        "Secretary on duty" if place else "",
                        "",
                        status,
                        user_id if (user_id and k % 2) else counselor_id,
                        logged,
                        reviewer,
                        reviewed,
                        reason,
                    )
                )
            day += timedelta(days=7)
    return copy_rows(Meeting, fields, rows)


def _sponsors_and_steps(ctx: ScaleContext, active: list[Active]) -> int:
    if Sponsor.objects.filter(patient__site__in=ctx.sites).exists():
        return 0
    sponsors, steps = [], []
    for n, (patient_id, _, admitted, counselor_id, _) in enumerate(active):
        if n % 3 == 2:
            continue
        since = admitted + timedelta(days=7)
        if since > ctx.today:
            continue
        sponsors.append(
            Sponsor(
                patient_id=patient_id,
                name=SPONSORS[n % len(SPONSORS)],
                phone=f"+12015550{200 + n % 100}",
                since=since,
                recorded_by_id=counselor_id,
                recorded_at=ctx.now,
            )
        )
        for step in range(1, 1 + min(12, (ctx.today - admitted).days // 21 + 1)):
            steps.append(
                StepProgress(
                    patient_id=patient_id,
                    step=step,
                    started_on=admitted + timedelta(days=21 * (step - 1)),
                    recorded_by_id=counselor_id,
                    recorded_at=ctx.now,
                )
            )
    Sponsor.objects.bulk_create(sponsors, batch_size=5000)
    StepProgress.objects.bulk_create(steps, batch_size=5000)
    return len(sponsors) + len(steps)


def _homework(ctx: ScaleContext, active: list[Active], tz: dict[int, tzinfo]) -> tuple[int, int]:
    """One piece a week from the site's library, due a week later."""
    if HomeworkAssignment.objects.filter(site__in=ctx.sites).exists():
        return 0, 0
    library = {}
    for t in HomeworkTemplate.objects.filter(site__in=ctx.sites, is_active=True).order_by("pk"):
        library.setdefault(t.site_id, []).append(t)
    a_fields = [
        "patient",
        "site",
        "template",
        "title",
        "instructions",
        "due_date",
        "group_label",
        "status",
        "assigned_by",
        "assigned_at",
    ]
    assignments, fates = [], {}
    for n, (patient_id, site_id, admitted, counselor_id, user_id) in enumerate(active):
        templates = library.get(site_id)
        if not templates:
            continue
        day = max(admitted, ctx.start)
        w = 0
        while day <= ctx.today:
            template = templates[(n + w) % len(templates)]
            due = day + timedelta(days=7)
            assigned_at = datetime.combine(day, time(15, 0), tzinfo=tz[site_id])
            assigned_at = min(assigned_at, ctx.now)
            roll = (n * 7 + w * 3) % 20
            # never handed in (overdue or open) / returned then accepted / accepted
            if roll == 0:
                fate = "none"
            elif roll in (1, 2):
                fate = "returned"
            else:
                fate = "accepted"
            submitted = assigned_at + timedelta(days=3 + roll % 3)
            if fate != "none" and submitted >= ctx.now:
                fate = "none"
            elif fate != "none" and submitted + timedelta(days=REVIEW_AFTER_DAYS) >= ctx.now:
                fate = "submitted"
            status = {
                "none": HomeworkStatus.ASSIGNED,
                "submitted": HomeworkStatus.SUBMITTED,
                "returned": HomeworkStatus.ACCEPTED,
                "accepted": HomeworkStatus.ACCEPTED,
            }[fate]
            if fate == "returned" and submitted + timedelta(days=5) >= ctx.now:
                status, fate = HomeworkStatus.RETURNED, "returned_open"
            fates[(patient_id, template.pk, due)] = (
                fate,
                submitted,
                user_id or counselor_id,
                counselor_id,
            )
            assignments.append(
                (
                    patient_id,
                    site_id,
                    template.pk,
                    template.title,
                    template.instructions,
                    due,
                    "",
                    status,
                    counselor_id,
                    assigned_at,
                )
            )
            day += timedelta(days=7)
            w += 1
    copy_rows(HomeworkAssignment, a_fields, assignments)
    s_fields = [
        "assignment",
        "round",
        "text",
        "submitted_by",
        "submitted_at",
        "outcome",
        "comment",
        "reviewed_by",
        "reviewed_at",
    ]
    text = "Here is my work for this week."
    subs = []
    for pk, patient_id, template_id, due in HomeworkAssignment.objects.filter(
        site__in=ctx.sites
    ).values_list("pk", "patient_id", "template_id", "due_date"):
        fate, at, by, counselor_id = fates[(patient_id, template_id, due)]
        if fate == "none":
            continue
        if fate == "submitted":
            subs.append((pk, 1, text, by, at, "", "", None, None))
            continue
        if fate in ("returned", "returned_open"):
            subs.append(
                (
                    pk,
                    1,
                    text,
                    by,
                    at,
                    ReviewOutcome.RETURNED,
                    "Good start. Please add one example from this week.",
                    counselor_id,
                    at + timedelta(days=1),
                )
            )
            if fate == "returned_open":
                continue
            at = at + timedelta(days=2)
        reviewed = at + timedelta(days=1)
        subs.append(
            (pk, 2 if fate == "returned" else 1, text, by, at, ReviewOutcome.ACCEPTED,
             "Thank you, well done.", counselor_id, min(reviewed, ctx.now))
        )  # fmt: skip
    copy_rows(HomeworkSubmission, s_fields, subs)
    return len(assignments), len(subs)


def seed_scale(ctx: ScaleContext) -> None:
    tz = {site.pk: site.tz for site in ctx.sites}
    active = _active(ctx)
    meetings = _meetings(ctx, active, tz)
    supports = _sponsors_and_steps(ctx, active)
    assigned, submitted = _homework(ctx, active, tz)
    ctx.log.append(
        f"recovery: {meetings} meetings, {supports} sponsor and step rows, "
        f"{assigned} homework assignments, {submitted} submissions"
    )
