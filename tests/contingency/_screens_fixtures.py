"""Data of the CM screens' tests: a program, an episode, and ledger lines written the way
the ledger service writes them (running totals carried on each row), so the screens are
tested on known amounts without replaying drug-test results."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from contingency.models import CMEnrollment, LedgerEntry, Program
from core import clock
from drugtests.models import Selection, TestingPolicy

D = Decimal


def make_program(site, **extra) -> Program:
    return Program.objects.create(
        site=site, **{"name": "Recovery incentives", **extra}, created_at=clock.now()
    )


def enrol(patient, program, actor, *, starts_on: date, ends_on: date | None = None):
    from contingency.services.ledger import cm_enroll

    return cm_enroll(
        actor=actor, program=program, patient=patient, starts_on=starts_on, ends_on=ends_on
    )


def make_selection(patient, day: date) -> Selection:
    policy = TestingPolicy.objects.filter(site=patient.site).first()
    if policy is None:
        policy = TestingPolicy.objects.create(
            site=patient.site, name="CM", frequency=2, period="week", panel=["cocaine"]
        )
    return Selection.objects.create(
        patient=patient,
        site=patient.site,
        date=day,
        kind=Selection.Kind.FOR_CAUSE,
        reason="CM test",
        policy=policy,
        deadline=datetime.combine(day, time(17), tzinfo=patient.site.tz),
        status=Selection.Status.COLLECTED,
        created_at=clock.now(),
    )


def add_result(
    episode: CMEnrollment,
    day: date,
    *,
    earned: Decimal | None,
    step: int,
    reason: str = LedgerEntry.Reason.NEGATIVE,
) -> LedgerEntry:
    """One evaluated test: earned (``earned`` dollars) or not (``earned`` None)."""
    last = episode.ledger.order_by("-seq").first()
    episode_total = last.episode_total if last else D("0")
    year_total = last.year_total if last and last.year == day.year else D("0")
    balance = last.balance if last else D("0")
    amount = earned or D("0")
    return LedgerEntry.objects.create(
        enrollment=episode,
        patient=episode.patient,
        seq=(last.seq + 1) if last else 1,
        kind=LedgerEntry.Kind.EARNED if earned is not None else LedgerEntry.Kind.NOT_EARNED,
        reason=reason,
        selection=make_selection(episode.patient, day),
        occurred_on=day,
        step=step,
        next_step=step + 1 if earned is not None else 1,
        amount=amount,
        episode_total=episode_total + amount,
        year=day.year,
        year_total=year_total + amount,
        balance=balance + amount,
        episode_cap=episode.program.episode_cap,
        year_cap=episode.program.year_cap,
        created_at=clock.now(),
    )


def earn_run(episode: CMEnrollment, first_day: date, amounts: list[str]) -> list[LedgerEntry]:
    """Consecutive negatives, one every three days, earning ``amounts`` at steps 1, 2..."""
    return [
        add_result(episode, first_day + timedelta(days=3 * i), earned=D(a), step=i + 1)
        for i, a in enumerate(amounts)
    ]
