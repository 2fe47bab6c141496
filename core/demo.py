"""The demo clinic, seeded by ``manage.py seed_demo``. Every app adds its part.

Apps register, in their ``demo`` module, a ``"setup"`` step (runs before patients exist:
tracks, policies) and/or a ``"history"`` step (after: attendance, draws, meetings) in
``DEMO_STEPS``, the one registry shape (``core.registry``). ``seed_all`` finds the modules
with ``autodiscover_modules("demo")`` when it runs, so no process but the seeder imports
them. Each step must be idempotent.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

from .models import Organization, Role, Site, StaffProfile, User
from .registry import Registry
from .roles import role_group_name

SITES = [
    ("riverside", "Riverside Recovery Center", "America/New_York", "120 River St, Albany NY", "NY"),
    ("bayview", "Bayview Recovery Center", "America/Los_Angeles", "45 Bay Rd, Oakland CA", "CA"),
]
# username, first, last, role, site codes (None: every site)
STAFF = [
    ("director", "Dana", "Reyes", Role.DIRECTOR, None),
    ("counselor", "Chris", "Okafor", Role.COUNSELOR, ["riverside"]),
    ("counselor2", "Morgan", "Lee", Role.COUNSELOR, ["bayview"]),
    ("nurse", "Nia", "Patel", Role.MEDICAL, ["riverside", "bayview"]),
    ("frontdesk", "Frankie", "Diaz", Role.FRONT_DESK, ["riverside"]),
    ("collector", "Cam", "Nguyen", Role.COLLECTOR, ["riverside"]),
]
# username -> (credentials, licensed, supervisor's username). The counselor is a
# counselor-in-training whose notes and plans the director countersigns.
CLINICAL_PROFILES = {
    "director": ("LCSW", True, None),
    "counselor": ("CADC-T", False, "director"),
    "counselor2": ("LMHC", True, None),
    "nurse": ("RN", True, None),
}


@dataclass
class DemoContext:
    organization: Organization
    sites: dict[str, Site]
    staff: dict[str, User]
    password: str
    now: datetime
    password_hash: str = ""
    # Demo data is deterministic by design; nothing security-relevant uses this.
    rng: random.Random = field(default_factory=lambda: random.Random(20261122))  # noqa: S311
    patients: list[Any] = field(default_factory=list)  # patients.models.Patient (a layer up)
    log: list[str] = field(default_factory=list)

    @property
    def today(self) -> date:
        return timezone.localdate(self.now, self.sites["riverside"].tz)


DemoStep = Callable[[DemoContext], None]
# Each app's steps build on the apps below it (patients' tracks before scheduling's series,
# and so on), so each step names its order: the order modules happen to be imported in (a
# test may import one app's demo first) must not decide it.
DEMO_STEPS: Registry[DemoStep] = Registry(unique=False)


def _user(
    username: str, first: str, last: str, password: str, *, is_staff: bool, is_superuser: bool
) -> User:
    user, created = User.objects.get_or_create(
        username=username,
        defaults={"first_name": first, "last_name": last, "email": f"{username}@example.org"},
    )
    if created:
        user.password = password  # already hashed, once for every demo user
    user.is_staff = is_staff
    user.is_superuser = is_superuser
    user.save()
    return user


def seed_core(password: str, now: datetime) -> DemoContext:
    # Every demo account shares one known password: hash it once (PBKDF2 costs ~0.25 s a
    # call, which would be most of the seed's time for 46 accounts).
    password_hash = make_password(password)
    org, _ = Organization.objects.get_or_create(
        name="Stepwise Demo Recovery Services", defaults={"mrn_prefix": "SW"}
    )
    sites = {}
    for code, name, tz, address, state in SITES:
        site, _ = Site.objects.get_or_create(
            organization=org,
            code=code,
            defaults={
                "name": name,
                "time_zone": tz,
                "address": address,
                "phone": "+12015550100",
                "country": "US",
                "subdivision": state,
                # Its letters name no treatment (core.models.TREATMENT_WORDS).
                "letterhead_name": f"{name.split()[0]} Health Associates",
            },
        )
        sites[code] = site
    staff = {}
    for username, first, last, role, codes in STAFF:
        # The admin is for superusers only (core.adminsite): the demo's director is the
        # one, to show it; other roles work in the staff screens only.
        director = role == Role.DIRECTOR
        user = _user(username, first, last, password_hash, is_staff=director, is_superuser=director)
        profile, _ = StaffProfile.objects.get_or_create(
            user=user, defaults={"organization": org, "role": role}
        )
        profile.sites.set(sites.values() if codes is None else [sites[c] for c in codes])
        user.groups.set([Group.objects.get(name=role_group_name(role))])
        staff[username] = user
    for username, (credentials, licensed, supervisor) in CLINICAL_PROFILES.items():
        user = staff[username]
        profile = StaffProfile.objects.get(user=user)
        profile.credentials, profile.licensed = credentials, licensed
        profile.supervisor = staff[supervisor] if supervisor else None
        profile.save(update_fields=["credentials", "licensed", "supervisor"])
        # The steps sign as these users: they must read the profile as it now is.
        user.staff_profile = profile
        user.__dict__.pop("staff", None)
    return DemoContext(
        organization=org,
        sites=sites,
        staff=staff,
        password=password,
        password_hash=password_hash,
        now=now,
    )


def seed_all(password: str, now: datetime | None = None) -> DemoContext:
    autodiscover_modules("demo")
    ctx = seed_core(password, now or timezone.now())
    for step in DEMO_STEPS.values("setup"):
        step(ctx)
    for step in DEMO_STEPS.values("history"):
        step(ctx)
    return ctx
