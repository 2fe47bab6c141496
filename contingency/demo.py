"""Demo contingency management: a stimulant program at Riverside with six patients at
different points of the schedule, every amount earned from real test results.

Each patient's episode starts at their admission (the fresh one today). Their tests are
the random draws drugtests' demo step made (all counted, in order) plus CM tests on
Mondays, Wednesdays and Fridays (every weekday for the one near the cap; collected and
read through drugtests' services), chosen so that the episodes end: fresh; at step 8
(aimed at: a drawn test missed near the end of the history, which the random draws may
give, leaves it lower); just reset by a positive; near the episode cap; with a reward
handed out and reconciled; with one handed out and not yet reconciled. The ledger is
written by the ledger service, as the worker would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import QuerySet

from core.clock import local_datetime
from core.demo import DEMO_STEPS, DemoContext
from drugtests.interpretation import interpret
from drugtests.models import (
    Analyte,
    AnalyteOutcome,
    AnalyteResult,
    Method,
    Outcome,
    Selection,
    Specimen,
    TestingPolicy,
    TestResult,
)
from drugtests.services.collection import specimen_collect
from drugtests.services.results import result_enter
from patients.models import Patient, Substance
from patients.selectors import current_enrollment

from .models import CMEnrollment, Program
from .selectors.ledger import EpisodeState, episode_state
from .services.ledger import cm_enroll, reward_issue, reward_reconcile, selections_evaluate

PROGRAM_NAME = "Stimulant CM"
CM_WEEKDAYS = (0, 2, 4)  # Monday, Wednesday, Friday
# The episode shown near the cap tests on every clinic weekday: on three days a week a
# reset by one of its random drawn tests could leave it short of the cap region by the
# end of its history (seen in about one seed in ten).
EVERY_WEEKDAY = (0, 1, 2, 3, 4)
NEAR_CAP = Decimal("546.00")  # two maximum rewards ($26.50) short of the $599 cap
STIMULANT_USERS = (Substance.STIMULANTS, Substance.COCAINE)

# What to collect on a free CM day, given where the episode stands and how many drawn
# tests (all qualifying) are still ahead: "negative", "positive" or None (no test).
Want = Callable[[EpisodeState, int, bool], str | None]


def _to_step_8(state: EpisodeState, ahead: int, last_day: bool) -> str | None:
    return "negative" if state.next_step + ahead < 8 else None


def _near_cap(state: EpisodeState, ahead: int, last_day: bool) -> str | None:
    return "negative" if state.episode_total < NEAR_CAP else None


def _reset_at_the_end(state: EpisodeState, ahead: int, last_day: bool) -> str | None:
    if last_day:
        return "positive"
    return "negative" if state.next_step < 5 else None


def _a_few(state: EpisodeState, ahead: int, last_day: bool) -> str | None:
    return "negative" if state.next_step + ahead < 5 else None


def _candidates(ctx: DemoContext) -> list[Patient]:
    site = ctx.sites["riverside"]
    # Not on medication-assisted treatment: the demo's CM results read every analyte
    # negative, which a buprenorphine or methadone patient's would not.
    patients = [
        p
        for p in Patient.objects.filter(site=site, medications__isnull=True).order_by("pk")
        if (e := current_enrollment(p)) is not None and e.status == "active"
    ]
    # Stimulant and cocaine users first (CM's evidence is for stimulant use disorder);
    # among them, those with no missed or refused draw, whose drawn tests all qualify.
    spoiled = set(
        Selection.objects.filter(
            patient__in=patients, status__in=[Selection.Status.MISSED, Selection.Status.REFUSED]
        ).values_list("patient_id", flat=True)
    )
    return sorted(
        patients,
        key=lambda p: (p.primary_substance not in STIMULANT_USERS, p.pk in spoiled, p.pk),
    )


def _past_draws(today: date, **lookups: object) -> QuerySet[Selection]:
    """Past drawn tests that count in an episode's run (not pending, not excused)."""
    return Selection.objects.filter(date__lt=today, **lookups).exclude(
        status__in=[Selection.Status.PENDING, Selection.Status.EXCUSED]
    )


def _spoiled_until(patients: list[Patient], today: date) -> dict[int, date]:
    """Each patient's last past drawn test that resets a run (missed, refused, not
    negative): what the random draws did, which differs from one seed to the next."""
    out: dict[int, date] = {}
    for pk, day in (
        _past_draws(today, patient__in=patients)
        .exclude(outcome=Outcome.NEGATIVE)
        .values_list("patient_id", "date")
    ):
        out[pk] = max(day, out.get(pk, day))
    return out


def _admitted(patient: Patient) -> date:
    enrollment = current_enrollment(patient)
    assert enrollment is not None
    return enrollment.admission_date


class _History:
    """Tests for one episode, day by day: the drawn ones as they were, CM tests on free
    days as ``want`` asks; each counted as soon as it is read."""

    def __init__(self, ctx: DemoContext, episode: CMEnrollment, policy: TestingPolicy) -> None:
        self.ctx, self.episode, self.policy = ctx, episode, policy
        self.site = episode.program.site

    def at(self, day: date, hh: int, mm: int = 0) -> datetime:
        return local_datetime(day, time(hh, mm), self.site.tz)

    def cm_test(self, day: date, outcome: str, hour: int) -> None:
        patient = self.episode.patient
        selection = Selection.objects.create(
            patient=patient,
            site=self.site,
            date=day,
            kind=Selection.Kind.FOR_CAUSE,
            policy=self.policy,
            reason="Contingency management schedule",
            ordered_by=self.ctx.staff["counselor"],
            deadline=self.at(day, 17),
            created_at=self.at(day, 8),
        )
        collected = self.at(day, hour)
        coc = f"CM-{patient.pk}-{day:%Y%m%d}"
        if outcome == "positive":
            # The finding the demo must show goes through the services (its alert too).
            specimen_collect(
                actor=self.ctx.staff["collector"],
                selection=selection,
                chain_of_custody_id=coc,
                method=Method.POC,
                observed=True,
                temperature_in_range=True,
                validity="valid",
                collected_at=collected,
                now=collected + timedelta(minutes=5),
            )
            result_enter(
                actor=self.ctx.staff["nurse"],
                selection=selection,
                source=Method.POC,
                analytes={
                    str(code): (
                        AnalyteOutcome.POSITIVE
                        if code == Analyte.METHAMPHETAMINE
                        else AnalyteOutcome.NEGATIVE,
                        None,
                    )
                    for code in self.policy.panel
                },
                now=collected + timedelta(minutes=20),
            )
        else:
            # The rows the services would write, without their thirty round trips a test
            # (drugtests' demo writes its history the same way); the ledger below is
            # still the ledger service's.
            specimen = Specimen.objects.create(
                selection=selection,
                patient=patient,
                collected_by=self.ctx.staff["collector"],
                collected_at=collected,
                specimen_type=self.policy.specimen_type,
                observed=True,
                temperature_in_range=True,
                validity="valid",
                chain_of_custody_id=coc,
                method=Method.POC,
            )
            result = TestResult.objects.create(
                specimen=specimen,
                source=Method.POC,
                entered_by=self.ctx.staff["nurse"],
                entered_at=collected + timedelta(minutes=20),
                prescribed=[],
            )
            AnalyteResult.objects.bulk_create(
                [
                    AnalyteResult(
                        result=result,
                        analyte=code,
                        outcome=AnalyteOutcome.NEGATIVE,
                        interpretation=interpret(code, AnalyteOutcome.NEGATIVE, frozenset()),
                    )
                    for code in self.policy.panel
                ]
            )
            Selection.objects.filter(pk=selection.pk).update(
                status=Selection.Status.COLLECTED,
                status_changed_at=collected,
                outcome=Outcome.NEGATIVE,
            )
        selections_evaluate(selection_ids=[selection.pk], now=collected + timedelta(minutes=21))

    def run(self, want: Want, weekdays: tuple[int, ...] = CM_WEEKDAYS) -> None:
        first, today = self.episode.starts_on, self.ctx.today
        drawn: dict[date, list[int]] = {}
        # Days of drawn tests that will reset the run (missed, refused, positive, invalid):
        # which patients the random draws picked, and how those tests went, differ from
        # one seed to the next.
        spoilers: set[date] = set()
        for pk, day, result in _past_draws(
            today, patient=self.episode.patient, date__gte=first
        ).values_list("pk", "date", "outcome"):
            drawn.setdefault(day, []).append(pk)
            if result != Outcome.NEGATIVE:
                spoilers.add(day)
        last = today - timedelta(days=1)
        day = first
        while day <= last:
            if day in drawn:
                selections_evaluate(selection_ids=drawn[day], now=self.at(day, 12))
            if (day not in drawn and day.weekday() in weekdays) or day == last:
                state = episode_state(self.episode, today=day)
                reset_ahead = max((d for d in spoilers if d > day), default=None)
                if reset_ahead is None:
                    ahead = sum(len(v) for d, v in drawn.items() if d > day)
                else:
                    # A drawn test ahead resets the run: only what follows it decides
                    # the step the episode ends at.
                    ahead = sum(len(v) for d, v in drawn.items() if d > reset_ahead)
                    state = replace(state, next_step=1)
                outcome = want(state, ahead, day == last)
                if outcome:
                    # Read late in the day: after any drawn test of the same day.
                    self.cm_test(day, outcome, hour=16)
            day += timedelta(days=1)


@DEMO_STEPS.register("history", order=35)
def seed(ctx: DemoContext) -> None:
    site = ctx.sites["riverside"]
    if Program.objects.filter(site=site, name=PROGRAM_NAME).exists():
        return
    program = Program.objects.create(site=site, name=PROGRAM_NAME, created_at=ctx.now)
    policy = TestingPolicy.objects.filter(site=site, phase__isnull=True, is_active=True).first()
    if policy is None:
        return
    counselor = ctx.staff["counselor"]
    patients = _candidates(ctx)[:6]
    if len(patients) < 6:
        return
    # The longest in treatment goes nearest the cap; the most recent starts fresh today.
    # The other four take their roles by how long they have gone since a drawn test that
    # resets a run: the step-8 run needs the longest clean stretch, the reset at the end
    # a step above 1 to fall from. Chosen this way, no seed of the draws spoils a role.
    near_cap, *rest = sorted(patients[:5], key=_admitted)
    spoiled = _spoiled_until(rest, ctx.today)
    step_8, reset, reconciled, issued = sorted(
        rest, key=lambda p: max(_admitted(p), spoiled.get(p.pk, date.min))
    )
    fresh = patients[5]

    def enroll(patient: Patient, starts_on: date) -> CMEnrollment:
        return cm_enroll(
            actor=counselor,
            program=program,
            patient=patient,
            starts_on=starts_on,
            now=local_datetime(starts_on, time(8), site.tz),
        )

    for patient, want, weekdays in (
        (near_cap, _near_cap, EVERY_WEEKDAY),
        (step_8, _to_step_8, CM_WEEKDAYS),
        (reset, _reset_at_the_end, CM_WEEKDAYS),
        (reconciled, _a_few, CM_WEEKDAYS),
        (issued, _a_few, CM_WEEKDAYS),
    ):
        episode = enroll(patient, _admitted(patient))
        _History(ctx, episode, policy).run(want, weekdays)
        if patient in (reconciled, issued):
            state = episode_state(episode)
            amount = min(state.balance, Decimal("20.00"))
            if amount > 0:
                handed = reward_issue(
                    actor=counselor,
                    cm_enrollment=episode,
                    amount=amount,
                    reward_ref=f"GC-{patient.pk:04d}-1",
                    note="Grocery gift card",
                    now=ctx.now - timedelta(hours=1),
                )
                if patient == reconciled:
                    reward_reconcile(
                        actor=counselor,
                        entry=handed,
                        note="Card activation confirmed",
                        now=ctx.now,
                    )
    enroll(fresh, ctx.today)
    ctx.log.append(
        "Contingency management: a stimulant program at Riverside, six patients enrolled "
        "(fresh, step 8, just reset, near the cap, rewards reconciled and not)."
    )
