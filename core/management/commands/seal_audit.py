from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.audit import SEAL_BATCH, AuditKeyMissing, seal


class Command(BaseCommand):
    help = "Chain the audit rows written since the last seal (what Celery beat runs every 5 s)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=SEAL_BATCH)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            sealed = seal(batch_size=options["batch_size"], wait=True)
        except AuditKeyMissing as exc:
            raise CommandError(
                f"audit seal stopped: key id {exc.args[0]!r} is not in AUDIT_KEYS"
            ) from None
        self.stdout.write(f"sealed {sealed} audit rows")
