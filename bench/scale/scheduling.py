"""Bulk scheduling history for ``seed_scale``: every track gets the demo's weekly series,
W weeks of held sessions plus the usual weeks ahead are materialized, and every rostered
patient of every held group session gets an attendance mark (and its history row).

Bypasses the attendance services (row locks, roster checks, audit rows) on purpose: this
is benchmark data, written with bulk inserts in batches. The roster rule is the same as
``selectors.rosters_for_sessions``: a track membership covering the session's local date.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from django.db.models import Count, Q

from patients.models import ProgramLevel, Track, TrackMembership
from scheduling import demo
from scheduling.models import Attendance, AttendanceChange, Session, SessionSeries, SessionStatus
from scheduling.services.materialization import sessions_materialize
from scheduling.services.series import build_rrule
from scheduling.services.weekly_hours import weekly_hours_rebuild

if TYPE_CHECKING:
    from bench.scale import ScaleContext

BATCH = 5000
# The column is a PositiveSmallIntegerField.
MAX_CAPACITY = 32767


def _ensure_series(ctx: ScaleContext, tracks: list[Track]) -> int:
    """The demo's series for any track without one; every series reaches back W weeks."""
    with_series = set(
        SessionSeries.objects.filter(track__in=tracks, is_active=True).values_list(
            "track_id", flat=True
        )
    )
    new = []
    for track in tracks:
        if track.pk in with_series:
            continue
        plans = list(demo.SERIES[track.kind])
        if track.level == ProgramLevel.PHP:
            plans.append(demo.PHP_EXTRA)
        for weekdays, begin, end, kind, topic in plans:
            new.append(
                SessionSeries(
                    track=track,
                    kind=kind,
                    topic=topic,
                    rrule=build_rrule(weekdays),
                    start_time=begin,
                    end_time=end,
                    starts_on=ctx.start,
                    facilitator_id=track.default_facilitator_id,
                    room=track.room,
                    created_at=ctx.now,
                    updated_at=ctx.now,
                )
            )
    SessionSeries.objects.bulk_create(new)
    SessionSeries.objects.filter(
        track__in=tracks, is_active=True, starts_on__gt=ctx.start, ends_on__isnull=True
    ).update(starts_on=ctx.start)
    return len(new)


def _raise_capacities(ctx: ScaleContext, tracks: list[Track]) -> None:
    """Scale rosters hold hundreds of patients per track: make room for all of them."""
    sizes = dict(
        TrackMembership.objects.filter(track__in=tracks)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=ctx.start))
        .values("track_id")
        .annotate(n=Count("patient_id", distinct=True))
        .values_list("track_id", "n")
    )
    changed = []
    for track in tracks:
        needed = min(MAX_CAPACITY, sizes.get(track.pk, 0) + 10)
        if needed > track.capacity:
            track.capacity = needed
            changed.append(track)
    Track.objects.bulk_update(changed, ["capacity"])
    for track in changed:  # sessions materialized earlier copied the old capacity
        Session.objects.filter(track=track, capacity__lt=track.capacity).update(
            capacity=track.capacity
        )


def _flush(rows: list[Attendance]) -> int:
    Attendance.objects.bulk_create(rows, batch_size=BATCH)  # PostgreSQL returns the pks
    AttendanceChange.objects.bulk_create(
        [
            AttendanceChange(
                attendance_id=a.pk,
                changed_by_id=a.recorded_by_id,
                changed_at=a.recorded_at,
                to_status=a.status,
                to_minutes=a.minutes_credited,
            )
            for a in rows
        ],
        batch_size=BATCH,
    )
    return len(rows)


def seed_scale(ctx: ScaleContext) -> None:
    tracks = list(Track.objects.filter(site__in=ctx.sites, is_active=True))
    added = _ensure_series(ctx, tracks)
    _raise_capacities(ctx, tracks)
    created = sum(
        sessions_materialize(site=site, now=ctx.now, first=ctx.start) for site in ctx.sites
    )

    held = list(
        Session.objects.filter(
            track__in=tracks,
            local_date__gte=ctx.start,
            ends_at__lte=ctx.now,
            status=SessionStatus.SCHEDULED,
        )
        .exclude(pk__in=Attendance.objects.values("session_id"))  # re-runs add nothing
        .order_by("starts_at", "pk")
    )
    roster = defaultdict(list)
    for m in TrackMembership.objects.filter(track__in=tracks).only(
        "track_id", "patient_id", "start_date", "end_date"
    ):
        roster[m.track_id].append(m)

    rows: list[Attendance] = []
    total = 0
    for session in held:
        for m in roster[session.track_id]:
            if m.covers(session.local_date):
                rows.append(demo._attendance_for(ctx, session, m.patient_id))
        if len(rows) >= BATCH:
            total += _flush(rows)
            rows = []
    if rows:
        total += _flush(rows)
    # The bulk inserts bypassed the attendance services, which keep the weekly totals:
    # recompute every seeded week from the rows (idempotent, so a re-run is harmless).
    rebuilt = weekly_hours_rebuild(first=ctx.start, last=ctx.today, now=ctx.now)

    ctx.log.append(
        f"scheduling: {len(tracks)} tracks ({added} new series), {created} sessions "
        f"materialized, {len(held)} held sessions with {total} attendance rows "
        f"(and as many history rows), {rebuilt} weekly-hours rows rebuilt"
    )
