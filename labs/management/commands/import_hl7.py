import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandError, CommandParser

from labs.models import Channel, LabInterface
from labs.services.inbound import messages_receive

MAX_FILE_BYTES = 50 * 1024 * 1024


class Command(BaseCommand):
    help = (
        "Import laboratory results: files of HL7 v2.5.1 ORU^R01 messages (MLLP-framed or "
        "not). Prints the ACK of each message; exits 1 if any was answered AE or AR."
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
        parser.add_argument("paths", nargs="+", metavar="PATH", help="Files of messages.")
        parser.add_argument(
            "--lab",
            help="The laboratory (its id or name); needed when more than one is receiving.",
        )
        parser.add_argument(
            "--acks", action="store_true", help="Also print each ACK message in full."
        )

    def handle(self, *args: Any, paths: list[str], lab: str | None = None, **options: Any) -> None:
        # Every file is read before any is imported: a typo in the last path imports
        # nothing rather than half the batch.
        files = [(path, _read(path)) for path in paths]
        interface = _interface(lab)
        refused = total = 0
        for path, data in files:
            receipts = messages_receive(interface=interface, data=data, channel=Channel.FILE)
            if not receipts:
                self.stdout.write(f"{path}: no HL7 message in the file")
            for n, receipt in enumerate(receipts, start=1):
                message = receipt.message
                total += 1
                refused += message.ack_code != "AA"
                again = " (sent before: answered as then)" if receipt.repeated else ""
                self.stdout.write(
                    f"{path} #{n} {message.control_id or '-'}: {message.ack_code} "
                    f"{message.get_status_display().lower()}{again}"
                    + (f". {message.ack_text}" if message.ack_text else "")
                )
                if options.get("acks"):
                    self.stdout.write(receipt.ack.replace("\r", "\n").rstrip("\n"))
        self.stdout.write(f"{total} message(s), {total - refused} accepted (AA).")
        if refused:
            raise CommandError(f"{refused} message(s) answered AE or AR.", returncode=1)


def _interface(lab: str | None) -> LabInterface:
    receiving = LabInterface.objects.filter(is_active=True)
    if lab:
        by_id = lab.isdigit() and len(lab) < 10
        found = list(receiving.filter(pk=int(lab)) if by_id else receiving.filter(name__iexact=lab))
        if len(found) == 1:
            return found[0]
        if not found:
            raise CommandError(f"No receiving laboratory {lab!r}.")
        raise CommandError(f"Several laboratories are named {lab!r}: give its id.")
    found = list(receiving[:2])
    if len(found) == 1:
        return found[0]
    if not found:
        raise CommandError("No laboratory is set up to receive results (Laboratories page).")
    choices = ", ".join(f"{i.pk} {i.name}" for i in receiving)
    raise CommandError(f"Name the laboratory with --lab ({choices}).")


def _read(path: str) -> bytes:
    file = Path(path)
    try:
        if file.stat().st_size > MAX_FILE_BYTES:
            raise CommandError(f"{path}: larger than 50 MB; split it.")
        return file.read_bytes()
    except IsADirectoryError:
        raise CommandError(f"{path}: is a folder, not a file.") from None
    except FileNotFoundError:
        raise CommandError(f"{path}: no such file.") from None
    except PermissionError:
        raise CommandError(f"{path}: not allowed to read it.") from None
    except OSError as exc:
        raise CommandError(f"{path}: cannot be read ({exc.strerror or exc}).") from None
