"""Bulk patients for ``seed_scale``: realistic caseloads (about 25 per counselor), every
level, track and phase, some on MAT. Bypasses the services (and their audit rows) on
purpose: this is benchmark data, written in a few bulk statements."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import TYPE_CHECKING

from django.contrib.auth.models import Group
from django.utils import timezone

from core.models import Role, Site, StaffProfile, User
from core.roles import role_group_name
from patients.models import (
    Enrollment,
    EnrollmentEvent,
    MedicationOrder,
    Patient,
    ProgramLevel,
    ProgramPhase,
    Track,
    TrackMembership,
)

if TYPE_CHECKING:
    from bench.scale import ScaleContext

CASELOAD = 25
# Therapy groups hold about a dozen: the track roster is a group, as in a clinic.
GROUP_SIZE = 12
BATCH = 2000


def _counselors(ctx: ScaleContext, count: int) -> dict[int, list[User]]:
    """Counselors per site; the demo's ``counselor`` keeps a typical caseload."""
    group = Group.objects.get(name=role_group_name(Role.COUNSELOR))
    by_site: dict[int, list[User]] = {site.pk: [] for site in ctx.sites}
    for username in ("counselor", "counselor2"):
        user = ctx.staff[username]
        for site in user.staff_profile.sites.all():
            by_site[site.pk].append(user)
    existing = User.objects.filter(username__startswith="scale_counselor_").count()
    new_users = [
        User(
            username=f"scale_counselor_{i}",
            first_name="Scale",
            last_name=f"Counselor {i}",
            password=ctx.staff["counselor"].password,
        )
        for i in range(existing, max(existing, count))
    ]
    User.objects.bulk_create(new_users, batch_size=BATCH)
    made = list(User.objects.filter(username__startswith="scale_counselor_").order_by("pk"))
    profiles = [
        StaffProfile(user=u, organization=ctx.organization, role=Role.COUNSELOR)
        for u in made
        if not StaffProfile.objects.filter(user=u).exists()
    ]
    StaffProfile.objects.bulk_create(profiles, batch_size=BATCH)
    through = StaffProfile.sites.through
    links = []
    for i, user in enumerate(made):
        site = ctx.sites[i % len(ctx.sites)]
        links.append(through(staffprofile_id=user.staff_profile.pk, site_id=site.pk))
        by_site[site.pk].append(user)
    through.objects.bulk_create(links, batch_size=BATCH, ignore_conflicts=True)
    group.user_set.add(*made)
    return by_site


def _groups(
    ctx: ScaleContext, by_site: dict[int, list[User]], where: list[tuple[Site, str]]
) -> dict[tuple[int, str], list[Track]]:
    """Enough tracks per site and level for groups of GROUP_SIZE: the demo's tracks, then
    copies of them facilitated in turn by the site's counselors (not the demo counselor,
    who keeps the demo's groups and a typical caseload)."""
    import math

    needed: dict[tuple[int, str], int] = defaultdict(int)
    for site, level in where:
        needed[site.pk, level] += 1
    tracks: dict[tuple[int, str], list[Track]] = defaultdict(list)
    for track in Track.objects.filter(site__in=ctx.sites, is_active=True).order_by("pk"):
        tracks[track.site_id, track.level].append(track)
    demo = ctx.staff["counselor"].pk
    clones = []
    for (site_id, level), count in needed.items():
        base = tracks[site_id, level]
        if not base:
            continue
        pool = [u.pk for u in by_site[site_id] if u.pk != demo] or [base[0].default_facilitator_id]
        for g in range(len(base), math.ceil(count / GROUP_SIZE)):
            model = base[g % len(base)]
            clones.append(
                Track(
                    site_id=site_id,
                    name=f"{model.name} {g + 1}",
                    kind=model.kind,
                    level=level,
                    default_facilitator_id=pool[g % len(pool)],
                    room=model.room,
                    capacity=GROUP_SIZE + 3,
                )
            )
    Track.objects.bulk_create(clones, batch_size=BATCH)
    tracks = defaultdict(list)
    for track in Track.objects.filter(site__in=ctx.sites, is_active=True).order_by("pk"):
        tracks[track.site_id, track.level].append(track)
    return tracks


def seed_patients(ctx: ScaleContext) -> None:

    n = ctx.patient_count
    by_site = _counselors(ctx, max(0, n // CASELOAD - 2))
    levels = [ProgramLevel.IOP] * 6 + [ProgramLevel.PHP, ProgramLevel.OP]
    # i % len(sites) picks the site; the patient's rank at that site picks the level, so
    # every site gets every level.
    where = [
        (ctx.sites[i % len(ctx.sites)], levels[(i // len(ctx.sites)) % len(levels)])
        for i in range(n)
    ]
    tracks = _groups(ctx, by_site, where)
    phases = {}
    for phase in ProgramPhase.objects.filter(site__in=ctx.sites):
        phases.setdefault(phase.site_id, []).append(phase)
    today = ctx.today
    rank: dict[tuple[int, str], int] = defaultdict(int)
    first_mrn = ctx.organization.mrn_counter
    people = []
    plan = []
    for i in range(n):
        site = ctx.sites[i % len(ctx.sites)]
        counselors = by_site[site.pk]
        counselor = counselors[(i // len(ctx.sites)) % len(counselors)]
        level = where[i][1]
        site_tracks = tracks.get((site.pk, level)) or [None]
        track = site_tracks[(rank[site.pk, level] // GROUP_SIZE) % len(site_tracks)]
        rank[site.pk, level] += 1
        site_phases = sorted(phases.get(site.pk, []), key=lambda p: p.number)
        admitted = today - timedelta(days=(i * 7) % (ctx.weeks * 7))
        phase = (
            site_phases[min(len(site_phases) - 1, (today - admitted).days // 28)]
            if site_phases
            else None
        )
        born = date(1960 + i % 45, 1 + i % 12, 1 + i % 28)
        people.append(
            Patient(
                organization=ctx.organization,
                site=site,
                mrn=f"SC{first_mrn + i + 1:07d}",
                legal_first_name=f"Scale{i}",
                legal_last_name=f"Patient{i % 997}",
                date_of_birth=born,
                primary_substance=["opioids", "alcohol", "stimulants"][i % 3],
                primary_counselor=counselor,
                phone=f"+1201555{i % 10000:04d}",  # E.164, as the services store it
                email=f"scale{i}@example.org",
            )
        )
        plan.append((site, level, track, phase, admitted))
    Patient.objects.bulk_create(people, batch_size=BATCH)
    ctx.organization.mrn_counter = first_mrn + n
    ctx.organization.save(update_fields=["mrn_counter"])
    enrollments = [
        Enrollment(
            patient=p,
            site=site,
            level=level,
            track=track,
            phase=phase,
            admission_date=admitted,
            status="active",
        )
        for p, (site, level, track, phase, admitted) in zip(people, plan, strict=True)
    ]
    Enrollment.objects.bulk_create(enrollments, batch_size=BATCH)
    now = timezone.now()
    EnrollmentEvent.objects.bulk_create(
        [
            EnrollmentEvent(
                enrollment=e,
                kind="admitted",
                effective_date=e.admission_date,
                to_value=e.get_level_display(),
                recorded_at=now,
            )
            for e in enrollments
        ],
        batch_size=BATCH,
    )
    TrackMembership.objects.bulk_create(
        [
            TrackMembership(
                enrollment=e, patient_id=e.patient_id, track=e.track, start_date=e.admission_date
            )
            for e in enrollments
            if e.track_id
        ],
        batch_size=BATCH,
    )
    MedicationOrder.objects.bulk_create(
        [
            MedicationOrder(
                patient=p,
                medication="buprenorphine_naloxone",
                dose="16 mg",
                frequency="daily",
                prescriber="Dr. Scale",
                start_date=e.admission_date,
            )
            for p, e in zip(people, enrollments, strict=True)
            if p.primary_substance == "opioids"
        ],
        batch_size=BATCH,
    )
    # One portal account per site for the portal pages' benchmark.
    for idx, p in enumerate(people[: len(ctx.sites)]):
        user, created = User.objects.get_or_create(username=f"scale_patient{idx + 1}")
        if created:
            user.password = ctx.staff["counselor"].password
            user.save(update_fields=["password"])
        Patient.objects.filter(pk=p.pk).update(user=user)
    ctx.patients = people
    ctx.enrollments = enrollments
    ctx.log.append(f"patients: {n} across {len(ctx.sites)} sites, {len(enrollments)} enrollments")
