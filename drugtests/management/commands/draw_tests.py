import sys
from argparse import ArgumentParser
from datetime import date
from typing import Any, NoReturn

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.models import Site
from drugtests.models import Draw
from drugtests.services.random_draw import draw_run


class Command(BaseCommand):
    help = "Make today's random drug-test draw for each site (or one site / one day)."

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)

        def one_line_error(message: str) -> NoReturn:
            # A bad option gets one line and a non-zero exit, not argparse's usage dump.
            self.stderr.write(f"{subcommand}: {message}")
            sys.exit(2)

        parser.error = one_line_error  # type: ignore[method-assign]  # argparse has no hook
        return parser

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--site", help="Site code (default: every active site).")
        parser.add_argument("--date", help="Site-local day, YYYY-MM-DD (default: today there).")

    def handle(
        self, *args: Any, site: str | None = None, date: str | None = None, **options: Any
    ) -> None:
        on = _parse_date(date) if date else None
        sites = Site.objects.filter(is_active=True).order_by("code")
        if site:
            sites = sites.filter(code=site)
            if not sites.exists():
                raise CommandError(f"No active site with code {site!r}.")
        for s in sites:
            try:
                result = draw_run(site=s, on=on, trigger=Draw.Trigger.COMMAND)
            except ValidationError as exc:
                raise CommandError(f"{s.code}: {' '.join(exc.messages)}") from None
            draw = result.draw
            if result.created:
                self.stdout.write(
                    f"{s.code} {draw.date}: drew {draw.selected_count} of {draw.pool_size} "
                    f"eligible (draw {draw.pk}, hash {draw.hash[:12]})"
                )
            else:
                self.stdout.write(
                    f"{s.code} {draw.date}: already drawn (draw {draw.pk}); nothing changed"
                )


def _parse_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--date {value!r} is not a date (YYYY-MM-DD).") from None
