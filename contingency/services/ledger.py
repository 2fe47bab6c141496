"""The CM ledger's writes: enrolment and its end, counting tests and sessions, rewards
handed out and reconciled. Every amount here is computed from results; none is typed.

How a test counts (CLINICAL.md, "Contingency management"; the program's settings):

- Only tests dated inside an episode count (from ``starts_on`` to ``ends_on``, or to the
  site-local day the episode was ended). An excused or still pending test counts nothing.
- Every target analyte negative (the lab's answer where it tested one, else the cup's:
  ``drugtests.interpretation.effective_results``) earns at the current step, cut to what
  remains under the episode cap and the calendar-year cap (the test's site-local year,
  across the patient's episodes). Reaching a cap earns the remainder; after that a
  qualifying test is recorded as earned with 0 and reason CAPPED. The step advances.
  A positive on any other analyte does not matter.
- A positive on a target analyte, a missed or a refused test, or an invalid specimen
  (adulterated or substituted: a refusal to give a valid specimen, so the refusal flag
  decides) earns nothing and, per the program's flags, resets the next step to 1.
- A target analyte on the test's panel that was not read ("not tested", or no row), or
  a panel with no target analyte at all, leaves the test unable to show abstinence:
  recorded as not earned with reason NOT_TESTED and no reset (the clinic's panel is not
  the patient's doing). A target the panel leaves out (the default panel has no MDMA)
  is not required; found positive anyway (a lab's wider screen), it counts as positive.
- A lab result that overturns a cup negative on a target analyte appends a REVERSAL of
  the earned entry (its amount negated; the totals and the balance go down, and the
  balance may go below zero: what was handed out is not taken back, the next hand-out
  waits) and resets as a positive would from then on. A lab result that overturns a cup
  positive (or finds negative what the cup did not test) counts the test again, once, at
  the step current now (migration 0003). Nothing already earned is ever recomputed.
- Attendance programs: a session attended (present, late, left early) earns like a
  negative test; an unexcused absence resets per the missed-test flag; an excused one
  counts nothing. A session is counted once, when its attendance is first recorded; a
  later correction of the mark does not change the ledger.

Every append holds a row lock on all of the patient's episodes (``select_for_update``)
before reading the last entry: two results recorded at the same moment are counted one
after the other, so neither can pass a cap (the database's check constraints are the
backstop). The counting runs in the worker (``contingency.tasks``), never in the request
that entered the result; system writes are audited with ``actor_label`` "cm-ledger".
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from core import audit, clock, limits
from core.models import User
from core.validators import require_dates_in_range, require_plain_text
from drugtests.interpretation import effective_results
from drugtests.models import INVALID_VALIDITY, AnalyteOutcome, Selection, Specimen
from patients.models import Patient
from patients.selectors import current_enrollment
from scheduling.models import ATTENDED_STATUSES, Attendance, AttendanceStatus

from .. import rules
from ..models import CMEnrollment, LedgerEntry, Program, Target

logger = logging.getLogger(__name__)

SYSTEM = "cm-ledger"
ZERO = rules.ZERO
REWARD_REF_MAX = LedgerEntry._meta.get_field("reward_ref").max_length or 80
Kind = LedgerEntry.Kind
Reason = LedgerEntry.Reason


@dataclass(frozen=True)
class Verdict:
    """What a test or a session counts as now."""

    kind: str  # Kind.EARNED or Kind.NOT_EARNED
    reason: str
    resets: bool


# --- enrolment ---------------------------------------------------------------


def episode_last_day(episode: CMEnrollment) -> date:
    """The last site-local day that counts: the planned end, or the day it was ended."""
    if episode.status == CMEnrollment.Status.ENDED and episode.ended_at is not None:
        ended_on = timezone.localdate(episode.ended_at, episode.program.site.tz)
        return max(episode.starts_on, min(episode.ends_on, ended_on))
    return episode.ends_on


@transaction.atomic
def cm_enroll(
    *,
    actor: User,
    program: Program,
    patient: Patient,
    starts_on: date,
    ends_on: date | None = None,
    now: datetime | None = None,
) -> CMEnrollment:
    """Put a patient in treatment on a program for an episode (default length: the
    program's ``episode_weeks``); one active episode per patient."""
    now = clock.now(now)
    require_dates_in_range(starts_on=starts_on, ends_on=ends_on)
    if ends_on is None:
        ends_on = starts_on + timedelta(weeks=program.episode_weeks) - timedelta(days=1)
    # Serialises two enrolments of one patient (the partial unique index is the backstop).
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    errors: dict[str, str] = {}
    if program.site_id != patient.site_id:
        errors["program"] = "This program belongs to another site."
    elif not program.is_active:
        errors["program"] = "This program is not taking enrolments."
    if ends_on < starts_on:
        errors["ends_on"] = "The episode cannot end before its first day."
    enrollment = current_enrollment(patient)
    if enrollment is None:
        errors["patient"] = "Only a patient in treatment can be enrolled."
    if CMEnrollment.objects.filter(patient=patient, status=CMEnrollment.Status.ACTIVE).exists():
        errors["patient"] = "This patient already has an active episode; end it first."
    if not errors:
        earlier = CMEnrollment.objects.filter(
            patient=patient, starts_on__lte=ends_on, ends_on__gte=starts_on
        ).select_related("program__site")
        for other in earlier:
            if episode_last_day(other) >= starts_on:
                errors["starts_on"] = (
                    f"This patient's earlier episode ran until {episode_last_day(other)}; "
                    "a new one starts after it."
                )
                break
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            episode = CMEnrollment.objects.create(
                program=program,
                patient=patient,
                enrollment=enrollment,
                starts_on=starts_on,
                ends_on=ends_on,
                enrolled_by=actor,
                created_at=now,
            )
    except IntegrityError as exc:
        raise ValidationError(
            {"patient": "This patient already has an active episode; end it first."}
        ) from exc
    audit.record(
        action="contingency.enrolled",
        actor=actor,
        patient_id=patient.pk,
        site_id=program.site_id,
        obj=episode,
        detail={"program": program.pk, "starts_on": str(starts_on), "ends_on": str(ends_on)},
        at=now,
    )
    return episode


@transaction.atomic
def cm_end(
    *, actor: User, cm_enrollment: CMEnrollment, reason: str, now: datetime | None = None
) -> CMEnrollment:
    """End an episode early (or mark it over); tests after today no longer count."""
    now = clock.now(now)
    reason = (reason or "").strip()
    require_plain_text(reason=reason)
    if not reason:
        raise ValidationError({"reason": "Say why the episode ends."})
    if len(reason) > limits.SHORT_REASON:
        raise ValidationError({"reason": limits.too_long_message(limits.SHORT_REASON, len(reason))})
    episode = CMEnrollment.objects.select_for_update().get(pk=cm_enrollment.pk)
    if episode.status == CMEnrollment.Status.ENDED:
        raise ValidationError("This episode has already ended.")
    episode.status = CMEnrollment.Status.ENDED
    episode.ended_at = now
    episode.end_reason = reason
    episode.save(update_fields=["status", "ended_at", "end_reason"])
    audit.record(
        action="contingency.ended",
        actor=actor,
        patient_id=episode.patient_id,
        site_id=episode.program.site_id,
        obj=episode,
        at=now,
    )
    return episode


# --- the ledger's arithmetic ---------------------------------------------------


def _lock_patient(patient_id: int) -> None:
    # Every episode of the patient, in pk order (no deadlock between two lockers): the
    # year's total runs across episodes, so one lock covers them all.
    list(
        CMEnrollment.objects.select_for_update()
        .filter(patient_id=patient_id)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _last(episode: CMEnrollment) -> LedgerEntry | None:
    return LedgerEntry.objects.filter(enrollment=episode).order_by("-seq").first()


def _year_total(patient_id: int, year: int) -> Decimal:
    total = (
        LedgerEntry.objects.filter(patient_id=patient_id, year=year)
        .order_by("-pk")
        .values_list("year_total", flat=True)
        .first()
    )
    return total if total is not None else ZERO


def _append(
    episode: CMEnrollment,
    last: LedgerEntry | None,
    *,
    kind: str,
    reason: str,
    amount: Decimal,
    occurred_on: date,
    year: int,
    year_total: Decimal,
    episode_total: Decimal,
    state: rules.State,
    now: datetime,
    actor: User | None = None,
    **extra: object,
) -> LedgerEntry:
    program = episode.program
    balance = (last.balance if last else ZERO) + amount
    entry = LedgerEntry.objects.create(
        enrollment=episode,
        patient_id=episode.patient_id,
        seq=(last.seq if last else 0) + 1,
        kind=kind,
        reason=reason,
        occurred_on=occurred_on,
        next_step=state.next_step,
        restore_step=state.restore_step,
        since_reset=state.since_reset,
        amount=amount,
        episode_total=episode_total,
        year=year,
        year_total=year_total,
        balance=balance,
        # The caps as they stood (a cap lowered below what was already earned keeps the
        # earned total as the row's cap rather than refusing the row).
        episode_cap=max(program.episode_cap, episode_total),
        year_cap=max(program.year_cap, year_total),
        created_at=now,
        created_by=actor,
        **extra,
    )
    audit.record(
        action=f"contingency.{kind}",
        actor=actor,
        actor_label="" if actor is not None else SYSTEM,
        patient_id=episode.patient_id,
        site_id=program.site_id,
        obj=entry,
        detail={
            "seq": entry.seq,
            "reason": reason,
            "amount": str(amount),
            "selection": entry.selection_id,
            "attendance": entry.attendance_id,
            "related": entry.related_id,
        },
        at=now,
    )
    return entry


def _count(
    episode: CMEnrollment,
    verdict: Verdict,
    *,
    day: date,
    now: datetime,
    related: LedgerEntry | None = None,
    selection: Selection | None = None,
    attendance: Attendance | None = None,
) -> LedgerEntry:
    """Append an earned or not-earned entry for a test or a session at the current step."""
    program = episode.program
    last = _last(episode)
    state = rules.state_after(last)
    episode_total = last.episode_total if last else ZERO
    year_total = _year_total(episode.patient_id, day.year)
    step = rules.qualifying_step(program, state)
    amount = ZERO
    reason = verdict.reason
    if verdict.kind == Kind.EARNED:
        amount = rules.capped_amount(
            program,
            step,
            episode_total=episode_total,
            episode_cap=max(program.episode_cap, episode_total),
            year_total=year_total,
            year_cap=max(program.year_cap, year_total),
        )
        if amount == ZERO:
            reason = Reason.CAPPED
        state = rules.after_qualifying(program, state)
    elif verdict.resets:
        state = rules.after_reset(program, state)
    return _append(
        episode,
        last,
        kind=verdict.kind,
        reason=reason,
        amount=amount,
        occurred_on=day,
        year=day.year,
        year_total=year_total + amount,
        episode_total=episode_total + amount,
        state=state,
        now=now,
        step=step,
        related=related,
        selection=selection,
        attendance=attendance,
    )


def _reverse(
    episode: CMEnrollment, earned: LedgerEntry, verdict: Verdict, *, now: datetime
) -> LedgerEntry:
    """Take an earned test's amount back out of the totals (a lab overturned the cup)."""
    program = episode.program
    last = _last(episode)
    state = rules.state_after(last)
    if verdict.resets:
        state = rules.after_reset(program, state)
    episode_total = last.episode_total if last else ZERO
    return _append(
        episode,
        last,
        kind=Kind.REVERSAL,
        reason=Reason.OVERTURNED,
        amount=-earned.amount,
        occurred_on=earned.occurred_on,
        year=earned.year,
        year_total=_year_total(episode.patient_id, earned.year) - earned.amount,
        episode_total=episode_total - earned.amount,
        state=state,
        now=now,
        step=earned.step,
        related=earned,
        selection_id=earned.selection_id,
        attendance_id=earned.attendance_id,
        note=f"Lab result: {verdict.reason.replace('_', ' ')}.",
    )


def _episode_for(patient_id: int, day: date, target: str) -> CMEnrollment | None:
    candidates = CMEnrollment.objects.filter(
        patient_id=patient_id,
        program__target=target,
        starts_on__lte=day,
        ends_on__gte=day,
    ).select_related("program__site")
    for episode in candidates:
        if day <= episode_last_day(episode):
            return episode
    return None


# --- tests ---------------------------------------------------------------------


def selection_verdict(program: Program, selection: Selection) -> Verdict | None:
    """What a test counts as under ``program`` now (None: nothing to count yet)."""
    status = selection.status
    if status == Selection.Status.MISSED:
        return Verdict(Kind.NOT_EARNED, Reason.MISSED, program.reset_on_missed)
    if status == Selection.Status.REFUSED:
        return Verdict(Kind.NOT_EARNED, Reason.REFUSED, program.reset_on_refused)
    if status != Selection.Status.COLLECTED:
        return None  # pending, or excused
    specimen = Specimen.objects.filter(selection=selection).first()
    if specimen is None:
        return None
    if specimen.validity in INVALID_VALIDITY:
        return Verdict(Kind.NOT_EARNED, Reason.INVALID, program.reset_on_refused)
    results = list(specimen.results.prefetch_related("analytes"))
    if not results:
        return None  # collected, waiting for the cup's reading or the lab
    merged = effective_results(results)
    targets = [str(a) for a in program.target_analytes or []]
    found = [merged[a] for a in targets if a in merged]
    if any(r.outcome == AnalyteOutcome.POSITIVE for r in found):
        return Verdict(Kind.NOT_EARNED, Reason.POSITIVE, program.reset_on_positive)
    # What the test's panel includes must have been read; a target the panel leaves out
    # (the default panel has no MDMA) does not stop the others from showing abstinence.
    panel = set(selection.policy.panel)
    on_panel = [a for a in targets if a in panel]
    if not on_panel or any(
        a not in merged or merged[a].outcome != AnalyteOutcome.NEGATIVE for a in on_panel
    ):
        return Verdict(Kind.NOT_EARNED, Reason.NOT_TESTED, False)
    return Verdict(Kind.EARNED, Reason.NEGATIVE, False)


def _evaluate_selection(selection_id: int, now: datetime) -> int:
    head = Selection.objects.filter(pk=selection_id).values("patient_id", "date").first()
    if head is None:
        return 0
    episode = _episode_for(head["patient_id"], head["date"], Target.TEST)
    if episode is None:
        return 0
    _lock_patient(episode.patient_id)
    # Read after the lock: a lab result committed while we waited is seen here.
    selection = Selection.objects.select_related("policy").get(pk=selection_id)
    verdict = selection_verdict(episode.program, selection)
    if verdict is None:
        return 0
    counted = list(
        LedgerEntry.objects.filter(enrollment=episode, selection=selection).order_by("seq")
    )
    if not counted:
        _count(episode, verdict, day=selection.date, now=now, selection=selection)
        return 1
    if len(counted) > 1:
        return 0  # corrected once already: a test has at most a cup and a lab result
    first = counted[0]
    if first.kind == Kind.EARNED and verdict.kind == Kind.NOT_EARNED:
        _reverse(episode, first, verdict, now=now)
        return 1
    if first.kind == Kind.NOT_EARNED and (
        verdict.kind == Kind.EARNED
        or (first.reason == Reason.NOT_TESTED and verdict.reason != Reason.NOT_TESTED)
    ):
        _count(episode, verdict, day=selection.date, now=now, selection=selection, related=first)
        return 1
    return 0


def _collection_order(selection_ids: Iterable[int]) -> list[int]:
    rows = Selection.objects.filter(pk__in=list(selection_ids)).values_list(
        "pk", "date", "specimen__collected_at", "deadline"
    )
    return [pk for pk, *_ in sorted(rows, key=lambda r: (r[1], r[2] or r[3], r[0]))]


@transaction.atomic
def selections_evaluate(*, selection_ids: list[int], now: datetime | None = None) -> int:
    """Count these tests in the ledgers of their patients' episodes, in order of
    collection; returns the entries appended (0 on a rerun)."""
    now = clock.now(now)
    return sum(_evaluate_selection(pk, now) for pk in _collection_order(selection_ids))


# --- sessions ------------------------------------------------------------------


def attendance_verdict(program: Program, attendance: Attendance) -> Verdict | None:
    if attendance.status in ATTENDED_STATUSES:
        return Verdict(Kind.EARNED, Reason.ATTENDED, False)
    if attendance.status == AttendanceStatus.UNEXCUSED:
        return Verdict(Kind.NOT_EARNED, Reason.ABSENT, program.reset_on_missed)
    return None


@transaction.atomic
def attendances_evaluate(*, attendance_ids: list[int], now: datetime | None = None) -> int:
    """Count these sessions for attendance programs, in session order; returns the
    entries appended (0 on a rerun)."""
    now = clock.now(now)
    heads = sorted(
        Attendance.objects.filter(pk__in=list(attendance_ids)).values_list(
            "pk", "patient_id", "session__local_date", "session__starts_at"
        ),
        key=lambda r: (r[3], r[0]),
    )
    appended = 0
    for pk, patient_id, day, _ in heads:
        episode = _episode_for(patient_id, day, Target.ATTENDANCE)
        if episode is None:
            continue
        _lock_patient(patient_id)
        attendance = Attendance.objects.get(pk=pk)
        verdict = attendance_verdict(episode.program, attendance)
        if verdict is None:
            continue
        if LedgerEntry.objects.filter(enrollment=episode, attendance=attendance).exists():
            continue
        _count(episode, verdict, day=day, now=now, attendance=attendance)
        appended += 1
    return appended


# --- the safety net ------------------------------------------------------------

# How far back the hourly catch-up looks for tests and sessions not yet counted.
CATCH_UP_DAYS = 14


def catch_up(*, now: datetime | None = None) -> int:
    """Count what the on-commit queueing lost (a broker outage, a worker killed between
    two acknowledgements): every test and session of the last two weeks of the patients
    in an active episode. Idempotent: what is counted already appends nothing."""
    now = clock.now(now)
    since = (now - timedelta(days=CATCH_UP_DAYS)).date()
    active = CMEnrollment.objects.filter(status=CMEnrollment.Status.ACTIVE)
    selection_ids = list(
        Selection.objects.filter(
            patient__in=active.filter(program__target=Target.TEST).values("patient_id"),
            date__gte=since,
            status__in=[
                Selection.Status.COLLECTED,
                Selection.Status.MISSED,
                Selection.Status.REFUSED,
            ],
        ).values_list("pk", flat=True)
    )
    attendance_ids = list(
        Attendance.objects.filter(
            patient__in=active.filter(program__target=Target.ATTENDANCE).values("patient_id"),
            session__local_date__gte=since,
        ).values_list("pk", flat=True)
    )
    appended = selections_evaluate(selection_ids=selection_ids, now=now) if selection_ids else 0
    if attendance_ids:
        appended += attendances_evaluate(attendance_ids=attendance_ids, now=now)
    return appended


# --- rewards -------------------------------------------------------------------


def _clean_amount(amount: object) -> Decimal:
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({"amount": "Enter an amount in dollars and cents."}) from exc
    if not value.is_finite() or value <= 0:
        raise ValidationError({"amount": "Enter an amount above zero."})
    if value != value.quantize(Decimal("0.01")) or value >= Decimal("1000000"):
        raise ValidationError({"amount": "Enter an amount in dollars and cents."})
    return value.quantize(Decimal("0.01"))


@transaction.atomic
def reward_issue(
    *,
    actor: User,
    cm_enrollment: CMEnrollment,
    amount: Decimal,
    reward_ref: str,
    note: str = "",
    now: datetime | None = None,
) -> LedgerEntry:
    """Record a reward handed out (card, voucher, prize) against the balance."""
    now = clock.now(now)
    reward_ref = (reward_ref or "").strip()
    note = (note or "").strip()
    require_plain_text(reward_ref=reward_ref, note=note)
    value = _clean_amount(amount)
    errors: dict[str, str] = {}
    if not reward_ref:
        errors["reward_ref"] = "Enter the voucher or card id."
    elif len(reward_ref) > REWARD_REF_MAX:
        errors["reward_ref"] = limits.too_long_message(REWARD_REF_MAX, len(reward_ref))
    if len(note) > limits.SHORT_REASON:
        errors["note"] = limits.too_long_message(limits.SHORT_REASON, len(note))
    if errors:
        raise ValidationError(errors)
    _lock_patient(cm_enrollment.patient_id)
    episode = CMEnrollment.objects.select_related("program__site").get(pk=cm_enrollment.pk)
    program = episode.program
    last = _last(episode)
    balance = last.balance if last else ZERO
    if value > balance:
        raise ValidationError(
            {"amount": f"The balance is ${balance}; no more than that can be handed out."}
        )
    if LedgerEntry.objects.filter(
        kind=Kind.ISSUED, reward_ref=reward_ref, enrollment__program__site_id=program.site_id
    ).exists():
        raise ValidationError({"reward_ref": f"{reward_ref} was already handed out."})
    today = clock.site_today(program.site, now)
    return _append(
        episode,
        last,
        kind=Kind.ISSUED,
        reason=Reason.HANDED_OUT,
        amount=-value,
        occurred_on=today,
        year=today.year,
        year_total=_year_total(episode.patient_id, today.year),
        episode_total=last.episode_total if last else ZERO,
        state=rules.state_after(last),
        now=now,
        actor=actor,
        reward_kind=program.reward_kind,
        reward_ref=reward_ref,
        note=note,
    )


@transaction.atomic
def reward_reconcile(
    *, actor: User, entry: LedgerEntry, note: str = "", now: datetime | None = None
) -> LedgerEntry:
    """Confirm a reward handed out reached the patient (card activated, voucher
    redeemed); once per reward."""
    now = clock.now(now)
    note = (note or "").strip()
    require_plain_text(note=note)
    if len(note) > limits.SHORT_REASON:
        raise ValidationError({"note": limits.too_long_message(limits.SHORT_REASON, len(note))})
    _lock_patient(entry.patient_id)
    issued = LedgerEntry.objects.get(pk=entry.pk)
    if issued.kind != Kind.ISSUED:
        raise ValidationError("Only a reward handed out can be reconciled.")
    if LedgerEntry.objects.filter(kind=Kind.RECONCILED, related=issued).exists():
        raise ValidationError("This reward was already reconciled.")
    episode = CMEnrollment.objects.select_related("program__site").get(pk=issued.enrollment_id)
    last = _last(episode)
    today = clock.site_today(episode.program.site, now)
    try:
        with transaction.atomic():
            return _append(
                episode,
                last,
                kind=Kind.RECONCILED,
                reason=Reason.REDEEMED,
                amount=ZERO,
                occurred_on=today,
                year=today.year,
                year_total=_year_total(episode.patient_id, today.year),
                episode_total=last.episode_total if last else ZERO,
                state=rules.state_after(last),
                now=now,
                actor=actor,
                related=issued,
                reward_kind=issued.reward_kind,
                reward_ref=issued.reward_ref,
                note=note,
            )
    except IntegrityError as exc:  # the unique index: a second reconciliation
        raise ValidationError("This reward was already reconciled.") from exc
