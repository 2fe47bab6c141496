"""Reads of the CM ledger: where an episode stands, its entries, rewards not yet
reconciled. Nothing here recomputes an amount: the totals are the last entry's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Exists, OuterRef, QuerySet

from core import clock
from core.models import Site

from .. import rules
from ..models import CMEnrollment, LedgerEntry

ZERO = rules.ZERO


@dataclass(frozen=True)
class EpisodeState:
    next_step: int
    # What the next qualifying result earns, after the caps (0: a cap is reached).
    next_amount: Decimal
    balance: Decimal
    episode_total: Decimal
    # Earned in the site's current calendar year, across the patient's episodes.
    year_total: Decimal
    episode_cap: Decimal
    year_cap: Decimal
    last_entry: LedgerEntry | None


def _year_total(patient_id: int, year: int) -> Decimal:
    total = (
        LedgerEntry.objects.filter(patient_id=patient_id, year=year)
        .order_by("-pk")
        .values_list("year_total", flat=True)
        .first()
    )
    return total if total is not None else ZERO


def episode_state(cm_enrollment: CMEnrollment, *, today: date | None = None) -> EpisodeState:
    """Three queries: the program (unless already loaded), the last entry, the year's
    total."""
    program = cm_enrollment.program
    today = today or clock.site_today(program.site)
    last = (
        LedgerEntry.objects.filter(enrollment=cm_enrollment)
        .select_related("selection", "attendance", "related")
        .order_by("-seq")
        .first()
    )
    state = rules.state_after(last)
    episode_total = last.episode_total if last else ZERO
    year_total = _year_total(cm_enrollment.patient_id, today.year)
    step = rules.qualifying_step(program, state)
    return EpisodeState(
        next_step=step,
        next_amount=rules.capped_amount(
            program,
            step,
            episode_total=episode_total,
            episode_cap=program.episode_cap,
            year_total=year_total,
            year_cap=program.year_cap,
        ),
        balance=last.balance if last else ZERO,
        episode_total=episode_total,
        year_total=year_total,
        episode_cap=program.episode_cap,
        year_cap=program.year_cap,
        last_entry=last,
    )


def ledger_for(cm_enrollment: CMEnrollment) -> QuerySet[LedgerEntry]:
    """The episode's entries in order, with the test, session, related entry and the
    staff member who issued each (one query)."""
    return (
        LedgerEntry.objects.filter(enrollment=cm_enrollment)
        .select_related("selection", "attendance__session", "related", "created_by")
        .order_by("seq")
    )


def unreconciled_issues(site: Site) -> QuerySet[LedgerEntry]:
    """Rewards handed out at ``site`` with no reconciliation yet, oldest first."""
    reconciled = LedgerEntry.objects.filter(
        kind=LedgerEntry.Kind.RECONCILED, related=OuterRef("pk")
    )
    return (
        LedgerEntry.objects.filter(kind=LedgerEntry.Kind.ISSUED, enrollment__program__site=site)
        .filter(~Exists(reconciled))
        .select_related("patient", "enrollment__program", "created_by")
        .order_by("created_at", "pk")
    )
