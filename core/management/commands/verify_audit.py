from typing import Any

from django.core.management.base import BaseCommand, CommandError

from core.audit import verify_trail

SHOWN = 20


class Command(BaseCommand):
    help = (
        "Verify the audit trail: the sealed HMAC chain and each unsealed row, every row "
        "with its own key; exit non-zero with one line on any altered or unverifiable row."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        result = verify_trail()
        # The first rows name where to look; thousands of lines would bury the summary.
        for p in result.problems[:SHOWN]:
            self.stderr.write(f"audit row {p.row}: {p.problem}")
        if len(result.problems) > SHOWN:
            self.stderr.write(f"... and {len(result.problems) - SHOWN} more")
        used = ", ".join(f"{k} ({n} rows)" for k, n in sorted(result.keys.items())) or "none"
        self.stdout.write(f"keys used: {used}")
        altered = result.altered
        if altered:
            raise CommandError(
                f"audit trail altered: {len(altered)} problem(s), first at row {altered[0].row}"
                + (
                    f"; {sum(result.missing_keys.values())} row(s) unverifiable"
                    if result.missing_keys
                    else ""
                )
            )
        if result.missing_keys:
            missing = ", ".join(f"{k} ({n} rows)" for k, n in sorted(result.missing_keys.items()))
            raise CommandError(
                f"audit trail unverifiable: key(s) missing from AUDIT_KEYS: {missing}"
            )
        self.stdout.write(
            f"audit trail intact: {result.sealed + result.unsealed} rows verified "
            f"({result.sealed} sealed, {result.unsealed} not yet sealed)"
        )
