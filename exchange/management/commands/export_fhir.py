import json
import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandError, CommandParser

from exchange.selectors import patients_by_mrn
from exchange.services import bundle_export


class Command(BaseCommand):
    help = (
        "Write one patient's record as a FHIR R4B Bundle (JSON), to standard output or a "
        "file. Every resource carries the 42 CFR Part 2 labels; the export is audited."
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)

        def one_line_error(message: str) -> NoReturn:
            # A bad option gets one line and a non-zero exit, not argparse's usage dump.
            self.stderr.write(f"{subcommand}: {message}")
            sys.exit(2)

        parser.error = one_line_error  # type: ignore[method-assign]  # argparse has no hook
        return parser

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--patient", required=True, metavar="MRN", help="The patient's MRN.")
        parser.add_argument(
            "--site", metavar="CODE", help="The patient's site code, when the MRN is ambiguous."
        )
        parser.add_argument(
            "--output", metavar="FILE", help="Write the Bundle here (default: standard output)."
        )

    def handle(
        self,
        *args: Any,
        patient: str,
        site: str | None = None,
        output: str | None = None,
        **options: Any,
    ) -> None:
        mrn = patient.strip()
        found = patients_by_mrn(mrn, site_code=site)
        if not found:
            where = f" at site {site!r}" if site else ""
            raise CommandError(f"No patient with MRN {mrn!r}{where}.")
        if len(found) > 1:
            places = ", ".join(f"{p.organization.name} / {p.site.code}" for p in found)
            hint = "" if site else "; name the site with --site CODE"
            raise CommandError(f"MRN {mrn!r} matches {len(found)} patients ({places}){hint}.")
        target = Path(output) if output else None
        if target is not None and not target.parent.is_dir():
            raise CommandError(f"--output {output!r}: no such folder {str(target.parent)!r}.")
        bundle = bundle_export(patient=found[0], label="manage.py export_fhir")
        text = json.dumps(bundle, ensure_ascii=False, indent=2)
        if target is None:
            self.stdout.write(text)
            return
        try:
            target.write_text(text + "\n", encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"--output {output!r}: {exc.strerror or exc}.") from None
        entries = len(bundle["entry"])
        self.stderr.write(f"Wrote {entries} resources for MRN {mrn} to {target}.")
