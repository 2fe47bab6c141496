"""The director's CM programs of a site (``Program``): their schedule, caps and reward."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from core import audit, clock
from core.models import Role, Site, User
from drugtests.models import Analyte

from ..models import Program, RewardKind, Target

FIELDS = (
    "name",
    "target",
    "target_analytes",
    "start_amount",
    "step_amount",
    "max_amount",
    "reset_on_positive",
    "reset_on_missed",
    "reset_on_refused",
    "restore_after",
    "episode_cap",
    "year_cap",
    "episode_weeks",
    "reward_kind",
    "is_active",
)
# The database's bounds (Program's CHECK constraints and column sizes), so a bad value is
# a message on the form rather than an IntegrityError.
MAX_MONEY = Decimal("99999.99")
MAX_PER_RESULT = Decimal("1000.00")
RESTORE_MOST = 50
WEEKS_RANGE = (1, 104)


def _values(program: Program) -> dict[str, Any]:
    return {
        name: str(value) if isinstance(value, Decimal) else value
        for name in FIELDS
        for value in [getattr(program, name)]
    }


def program_errors(fields: dict[str, Any]) -> dict[str, list[str]]:
    """What is wrong with a program's values, by field (empty when nothing is)."""
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    name = str(fields.get("name") or "").strip()
    if not name:
        add("name", "Give the program a name.")
    if fields.get("target") not in Target.values:
        add("target", "Choose a target: a negative drug test, or an attended session.")
    analytes = list(fields.get("target_analytes") or [])
    unknown = [a for a in analytes if a not in Analyte.values]
    if unknown:
        add("target_analytes", f"Unknown analyte: {', '.join(map(str, unknown))}.")
    elif fields.get("target") == Target.TEST and not analytes:
        add("target_analytes", "Choose at least one analyte that decides the test.")
    start, step, most = (fields.get(k) for k in ("start_amount", "step_amount", "max_amount"))
    if start is None or start <= 0:
        add("start_amount", "The first reward must be more than $0.")
    if step is None or step < 0:
        add("step_amount", "The step cannot be negative ($0 keeps every reward the same).")
    if most is None or most <= 0 or most > MAX_PER_RESULT:
        add("max_amount", f"The most one result earns must be from $0.01 to ${MAX_PER_RESULT}.")
    elif start is not None and start > most:
        add("start_amount", "The first reward cannot be more than the most one result earns.")
    for cap in ("episode_cap", "year_cap"):
        value = fields.get(cap)
        if value is None or value <= 0 or value > MAX_MONEY:
            add(cap, f"A cap must be more than $0 and at most ${MAX_MONEY}.")
    restore = fields.get("restore_after")
    if restore is None or not 0 <= restore <= RESTORE_MOST:
        add("restore_after", f"Enter a number of results from 0 (never restore) to {RESTORE_MOST}.")
    weeks = fields.get("episode_weeks")
    if weeks is None or not WEEKS_RANGE[0] <= weeks <= WEEKS_RANGE[1]:
        add("episode_weeks", f"Enter a number of weeks from {WEEKS_RANGE[0]} to {WEEKS_RANGE[1]}.")
    if fields.get("reward_kind") not in RewardKind.values:
        # SAMHSA-funded programs may not give cash (CLINICAL.md, "Caps").
        add("reward_kind", "Choose a voucher, a gift card or a prize draw: never cash.")
    return errors


@transaction.atomic
def program_save(
    *,
    actor: User,
    site: Site,
    program: Program | None = None,
    name: str,
    target: str,
    target_analytes: list[str],
    start_amount: Decimal,
    step_amount: Decimal,
    max_amount: Decimal,
    reset_on_positive: bool,
    reset_on_missed: bool,
    reset_on_refused: bool,
    restore_after: int,
    episode_cap: Decimal,
    year_cap: Decimal,
    episode_weeks: int,
    reward_kind: str,
    is_active: bool,
) -> Program:
    """Create a site's program, or change one (the director of its organisation only);
    audited with the values before and after.

    Entries already in a ledger keep their own amounts and caps (each row carries them):
    a change decides only the results evaluated from now on."""
    staff = actor.staff
    if (
        staff is None
        or not actor.is_active
        or staff.role != Role.DIRECTOR
        or staff.organization_id != site.organization_id
    ):
        raise ValidationError("Only the director sets a site's CM programs.")
    if program is not None and program.site_id != site.pk:
        raise ValidationError("That program belongs to another site.")
    fields: dict[str, Any] = {
        "name": name.strip(),
        "target": target,
        # In Analyte's order, whatever order they were ticked in.
        "target_analytes": [a for a in Analyte.values if a in set(target_analytes)]
        + [a for a in target_analytes if a not in Analyte.values],
        "start_amount": start_amount,
        "step_amount": step_amount,
        "max_amount": max_amount,
        "reset_on_positive": reset_on_positive,
        "reset_on_missed": reset_on_missed,
        "reset_on_refused": reset_on_refused,
        "restore_after": restore_after,
        "episode_cap": episode_cap,
        "year_cap": year_cap,
        "episode_weeks": episode_weeks,
        "reward_kind": reward_kind,
        "is_active": is_active,
    }
    errors = program_errors(fields)
    if errors:
        raise ValidationError(errors)
    if program is None:
        row = Program(site=site, created_at=clock.now())
        before = None
    else:
        row = Program.objects.select_for_update().get(pk=program.pk)
        before = _values(row)
    for key, value in fields.items():
        setattr(row, key, value)
    row.save()
    audit.record(
        action="contingency.program_create" if before is None else "contingency.program_update",
        actor=actor,
        site_id=site.pk,
        obj=row,
        detail={"before": before, "after": _values(row)},
    )
    return row
