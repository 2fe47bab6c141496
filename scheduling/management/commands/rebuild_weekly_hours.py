"""Recompute the precomputed weekly hours from the attendance rows for a date range."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from scheduling.services.weekly_hours import weekly_hours_rebuild


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD).") from None


class Command(BaseCommand):
    help = (
        "Rebuild weekly hours per patient from attendance for the weeks from --from to --to "
        "(site-local Mondays; idempotent). Without them, every week with attendance."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="first", help="first day (YYYY-MM-DD)")
        parser.add_argument("--to", dest="last", help="last day (YYYY-MM-DD)")

    def handle(self, *args: Any, **options: Any) -> None:
        from django.db.models import Max, Min

        from scheduling.models import Session

        # Without dates: every week that has attendance (no wall clock is read).
        span = Session.objects.filter(attendance__isnull=False).aggregate(
            first=Min("local_date"), last=Max("local_date")
        )
        first = _day(options["first"]) if options["first"] else span["first"]
        last = _day(options["last"]) if options["last"] else span["last"]
        if first is None or last is None:
            self.stdout.write("weekly hours: no attendance, nothing to rebuild.")
            return
        if first > last:
            raise CommandError("--from is after --to.")
        written = weekly_hours_rebuild(first=first, last=last)
        self.stdout.write(f"weekly hours: {written} rows written ({first} to {last}).")
