"""Demo scores, written through the services (every score, safety event and audit row is
real): for a few patients of each site, PHQ-9 and GAD-7 at admission and every 30 days
(most improving, one flat), BAM weekly over the last weeks for those in IOP or PHP; the
portal patient's latest PHQ-9 answers item 9 with "several days", so one safety event
stays open for the counselor; and today's due check-ins for a few patients, patient1
(the portal demo account) among them. Dates come from the demo's "today". Skipped once
any sitting of the demo organisation exists."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from core.clock import local_datetime, site_today
from core.demo import DEMO_STEPS, DemoContext
from core.models import User
from patients.models import OPEN_STATUSES, Enrollment, Patient, ProgramLevel

from .models import Administration, Instrument
from .services.administrations import (
    administration_complete,
    administration_create,
    administration_start,
    answer_save,
    instrument_current,
)

PATIENTS_PER_SITE = 4
HISTORY_DAYS = 120
BAM_WEEKS = 6
# The portal demo account: its latest PHQ-9 has item 9 = 1 (an open safety event), and
# it has check-ins due today.
SAFETY_USERNAME = "patient1"
DUE_TODAY_PER_SITE = 2


def _spread(total: int, items: list[int], top: int) -> dict[int, int]:
    """Answers summing to ``total`` (as far as each item's top value allows), spread
    evenly from the first item, so scores read like real sittings."""
    answers = dict.fromkeys(items, 0)
    left = total
    while left > 0 and any(v < top for v in answers.values()):
        for number in items:
            if left and answers[number] < top:
                answers[number] += 1
                left -= 1
    return answers


def _sit(
    instrument: Instrument,
    patient: Patient,
    enrollment: Enrollment,
    answers: dict[int, int],
    *,
    actor: User,
    due_on: date,
    at: datetime,
    reason: str,
) -> None:
    sitting = administration_create(
        actor=None,
        patient=patient,
        instrument=instrument,
        reason=reason,
        due_on=due_on,
        enrollment=enrollment,
        now=at,
    )
    if sitting is None:
        return
    sitting = administration_start(
        actor=actor, administration=sitting, mode=Administration.Mode.PORTAL, now=at
    )
    items = {i.number: i for i in instrument.items.all()}
    for number, value in answers.items():
        answer_save(actor=actor, administration=sitting, item=items[number], value=value, now=at)
    administration_complete(actor=actor, administration=sitting, now=at)


def _bam_answers(week: int, weeks: int) -> dict[int, int]:
    # Early weeks: some use, more risk, little protection; later: abstinent, supported.
    late = week >= weeks // 2
    use = 0 if late else 1
    answers = {1: 2, 2: 2 - late, 3: 3 - late, 4: use, 5: 0, 6: use, 8: 3 - 2 * late}
    answers |= {9: 1 + 2 * late, 10: 2 + late, 11: 2 - late, 12: 1, 13: 1 + late, 14: 4}
    answers |= {15: 1, 16: 2 + late, 17: 1 + 2 * late}
    if use:
        answers[71] = 1
    return answers


@DEMO_STEPS.register("history", order=75)
def seed_scores(ctx: DemoContext) -> None:
    if Administration.objects.filter(patient__site__organization=ctx.organization).exists():
        return
    instruments = {code: instrument_current(code) for code in ("phq9", "gad7", "bam")}
    phq9_items = list(range(1, 10))
    gad7_items = list(range(1, 8))
    made = 0
    for site in ctx.sites.values():
        today = site_today(site, ctx.now)
        enrollments = list(
            Enrollment.objects.filter(site=site, status__in=OPEN_STATUSES)
            .select_related("patient__user")
            .order_by("patient__user__username", "pk")
        )
        safety = [
            e for e in enrollments if e.patient.user and e.patient.user.username == SAFETY_USERNAME
        ]
        # The longest stays show the longest trends.
        others = sorted(
            (e for e in enrollments if e not in safety), key=lambda e: (e.admission_date, e.pk)
        )
        chosen = (safety + others)[:PATIENTS_PER_SITE]
        for n, enrollment in enumerate(chosen):
            patient = enrollment.patient
            actor = patient.user
            if actor is None:
                continue
            start = max(enrollment.admission_date, today - timedelta(days=HISTORY_DAYS))
            days = list(range(0, max(1, (today - start).days), 30))
            improving = n % 4 != 3
            for k, offset in enumerate(days):
                day = start + timedelta(days=offset)
                at = min(local_datetime(day, time(9, 15), site.tz), ctx.now - timedelta(minutes=30))
                reason = (
                    Administration.Reason.ADMISSION
                    if offset == 0 and start == enrollment.admission_date
                    else Administration.Reason.SCHEDULED
                )
                phq = max(3, 17 - 4 * k) if improving else 12
                gad = max(2, 14 - 3 * k) if improving else 11
                last = k == len(days) - 1
                if enrollment in safety and last:
                    phq_answers = _spread(phq + 2, phq9_items[:8], 3) | {9: 1}
                else:
                    phq_answers = _spread(phq, phq9_items[:8], 3) | {9: 0}
                _sit(
                    instruments["phq9"],
                    patient,
                    enrollment,
                    phq_answers,
                    actor=actor,
                    due_on=day,
                    at=at,
                    reason=reason,
                )
                _sit(
                    instruments["gad7"],
                    patient,
                    enrollment,
                    _spread(gad, gad7_items, 3),
                    actor=actor,
                    due_on=day,
                    at=at,
                    reason=reason,
                )
                made += 2
            if enrollment.level in (ProgramLevel.IOP, ProgramLevel.PHP):
                weeks = min(BAM_WEEKS, (today - enrollment.admission_date).days // 7)
                for week in range(weeks):
                    day = today - timedelta(days=7 * (weeks - week))
                    at = local_datetime(day, time(18, 0), site.tz)
                    _sit(
                        instruments["bam"],
                        patient,
                        enrollment,
                        _bam_answers(week, weeks),
                        actor=actor,
                        due_on=day,
                        at=at,
                        reason=Administration.Reason.SCHEDULED,
                    )
                    made += 1
        # Today's check-ins, open in the portal and on the chart.
        due_now = min(ctx.now, local_datetime(today, time(7, 0), site.tz))
        for enrollment in chosen[:DUE_TODAY_PER_SITE]:
            administration_create(
                actor=None,
                patient=enrollment.patient,
                instrument=instruments["bam"],
                reason=Administration.Reason.SCHEDULED,
                due_on=today,
                enrollment=enrollment,
                now=due_now,
            )
    ctx.log.append(f"Measures: {made} completed check-ins, one open safety follow-up.")
