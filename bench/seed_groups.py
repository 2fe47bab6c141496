"""An experiment, not the benchmark's data: ``seed_scale`` with therapy groups of a
realistic size.

``bench/scale/patients.py`` spreads every patient over the demo's eight tracks, so a group
holds N/8 patients (62 at 500, 625 at 5,000) and a counselor who facilitates four of them
sees half a site. Real IOP groups hold about a dozen. This runs the same command, but
right after the patients are seeded (before the scheduling hook builds the series and the
attendance) it splits each track into tracks of at most GROUP_SIZE patients, facilitated
round-robin by the site's counselors (the demo counselor keeps two groups). The page
benchmark runs it with ``--variant groups`` to show which costs follow the group size
(data shape) and which follow the data size.

    python bench/seed_groups.py --patients 5000 --weeks 26
"""

from __future__ import annotations

import math
import os
import sys
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
if TYPE_CHECKING:
    from bench.scale import ScaleContext

GROUP_SIZE = int(os.environ.get("BENCH_GROUP_SIZE", "12"))


def split_tracks(ctx: ScaleContext) -> None:
    from django.db import connection

    from core.models import Role, StaffProfile
    from patients.models import Enrollment, TrackMembership
    from scheduling.models import Track

    counselors = defaultdict(list)
    for profile in StaffProfile.objects.filter(role=Role.COUNSELOR).prefetch_related("sites"):
        for site in profile.sites.all():
            counselors[site.pk].append(profile.user_id)
    demo_counselor = ctx.staff["counselor"].pk
    by_track = defaultdict(list)
    for pk, track_id in (
        Enrollment.objects.filter(site__in=ctx.sites, track__isnull=False)
        .order_by("pk")
        .values_list("pk", "track_id")
    ):
        by_track[track_id].append(pk)
    moves: list[tuple[int, int]] = []
    turn = defaultdict(int)
    demo_groups = 0
    for track in Track.objects.filter(pk__in=list(by_track)).order_by("pk"):
        members = by_track[track.pk]
        groups = math.ceil(len(members) / GROUP_SIZE)
        pool = [c for c in counselors[track.site_id] if c != demo_counselor] or [
            track.default_facilitator_id
        ]
        track.capacity = GROUP_SIZE + 3
        if track.default_facilitator_id == demo_counselor:
            demo_groups += 1
            if demo_groups > 2:  # the demo counselor keeps two groups of their own
                track.default_facilitator_id = pool[0]
        track.save(update_fields=["capacity", "default_facilitator"])
        clones = []
        for g in range(1, groups):
            turn[track.site_id] += 1
            clones.append(
                Track(
                    site_id=track.site_id,
                    name=f"{track.name} {g + 1}",
                    kind=track.kind,
                    level=track.level,
                    default_facilitator_id=pool[turn[track.site_id] % len(pool)],
                    room=track.room,
                    video_link=track.video_link,
                    capacity=GROUP_SIZE + 3,
                )
            )
        Track.objects.bulk_create(clones)
        for g, clone in enumerate(clones, start=1):
            for enrollment_id in members[g * GROUP_SIZE : (g + 1) * GROUP_SIZE]:
                moves.append((enrollment_id, clone.pk))
    if moves:
        with connection.cursor() as cur:
            for table, key in (
                (Enrollment._meta.db_table, "id"),
                (TrackMembership._meta.db_table, "enrollment_id"),
            ):
                cur.execute(
                    f"UPDATE {table} AS t SET track_id = m.track "  # noqa: S608 - model meta
                    f"FROM unnest(%s::bigint[], %s::bigint[]) AS m(e, track) WHERE t.{key} = m.e",
                    [[e for e, _ in moves], [t for _, t in moves]],
                )
    ctx.log.append(
        f"experiment: tracks split into groups of at most {GROUP_SIZE} "
        f"({len(moves)} enrollments moved to {Track.objects.count()} tracks)"
    )


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from bench.scale import patients

    original = patients.seed_patients

    def seed_patients(ctx: ScaleContext) -> None:
        original(ctx)
        split_tracks(ctx)

    patients.seed_patients = seed_patients
    call_command("seed_scale", *sys.argv[1:])


if __name__ == "__main__":
    main()
