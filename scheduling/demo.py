"""Demo tracks (and, from the scheduling issue, their session series and history)."""

from __future__ import annotations

from core.demo import DemoContext
from patients.models import ProgramLevel

from .models import Track, TrackKind

TRACKS = [
    ("IOP Day", TrackKind.DAY, ProgramLevel.IOP, "Room A"),
    ("IOP Evening", TrackKind.EVENING, ProgramLevel.IOP, "Room B"),
    ("PHP Day", TrackKind.DAY, ProgramLevel.PHP, "Room C"),
    ("OP Evening", TrackKind.EVENING, ProgramLevel.OP, "Room B"),
]


def seed_setup(ctx: DemoContext) -> None:
    facilitators = {"riverside": ctx.staff["counselor"], "bayview": ctx.staff["counselor2"]}
    for code, site in ctx.sites.items():
        for name, kind, level, room in TRACKS:
            Track.objects.get_or_create(
                site=site,
                name=name,
                defaults={
                    "kind": kind,
                    "level": level,
                    "room": room,
                    "capacity": 15,
                    "default_facilitator": facilitators[code],
                },
            )
