from typing import Any

from django.core.management.base import BaseCommand, CommandError

from core.audit import verify_chain
from core.models import AuditEvent


class Command(BaseCommand):
    help = "Recompute the audit trail's HMAC chain; exit non-zero naming any altered row."

    def handle(self, *args: Any, **options: Any) -> None:
        problems = list(verify_chain())
        for p in problems:
            self.stderr.write(f"audit row {p.seq}: {p.problem}")
        if problems:
            raise CommandError(
                f"audit trail altered: {len(problems)} problem(s), first at row {problems[0].seq}"
            )
        self.stdout.write(f"audit trail intact: {AuditEvent.objects.count()} rows verified")
