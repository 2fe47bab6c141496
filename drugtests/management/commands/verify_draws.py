import sys
from argparse import ArgumentParser
from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.models import Site
from drugtests.verification import verify_draws


class Command(BaseCommand):
    help = "Recompute every random draw from its stored inputs and check each site's chain."

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)

        def one_line_error(message: str) -> NoReturn:
            # A bad option gets one line and a non-zero exit, not argparse's usage dump.
            self.stderr.write(f"{subcommand}: {message}")
            sys.exit(2)

        parser.error = one_line_error  # type: ignore[method-assign]  # argparse has no hook
        return parser

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--site", help="Site code (default: every site).")

    def handle(self, *args: Any, site: str | None = None, **options: Any) -> None:
        target = None
        if site:
            target = Site.objects.filter(code=site).first()
            if target is None:
                raise CommandError(f"No site with code {site!r}.")
        problems, checked = [], 0
        for item in verify_draws(target):
            if isinstance(item, int):
                checked = item
            else:
                problems.append(item)
                self.stderr.write(f"ALTERED {item}")
        if problems:
            names = sorted({p.draw_id for p in problems if p.draw_id is not None})
            raise CommandError(
                f"{len(names)} draw(s) altered: {', '.join(f'draw {n}' for n in names)}"
            )
        self.stdout.write(f"OK: {checked} draw(s) verified; every chain is intact.")
