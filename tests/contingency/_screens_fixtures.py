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


def hostile_states() -> list[str]:
    """What the hostile walk needs to reach every CM form (tests/hostile): a program at
    the demo's main site, the walked patient and one of the walked counselor's patients
    enrolled with rewards earned and one handed out (the reward and reconcile forms), and
    a patient of that counselor not enrolled (the enrol form). Returns the pages the
    director's crawl starts at. Uses the demo's own CM data where it has some."""
    from contingency.services.ledger import reward_issue
    from core.models import Site, User
    from patients.models import OPEN_STATUSES, Patient

    site = Site.objects.get(code="riverside")
    program = Program.objects.filter(site=site, is_active=True).first() or make_program(site)
    counselor = User.objects.get(username="counselor")
    today = clock.site_today(site)
    open_patients = Patient.objects.filter(
        site=site, enrollments__status__in=OPEN_STATUSES
    ).exclude(cm_enrollments__status=CMEnrollment.Status.ACTIVE)
    wanted = [
        *open_patients.filter(user__username="patient1")[:1],
        *open_patients.filter(primary_counselor=counselor).exclude(user__username="patient1")[:1],
    ]
    starts = [reverse_url("contingency:programs"), reverse_url("contingency:dashboard")]
    for n, patient in enumerate(wanted):
        episode = enrol(patient, program, counselor, starts_on=today - timedelta(days=20))
        earn_run(episode, today - timedelta(days=18), ["10.00", "11.50", "13.00"])
        reward_issue(actor=counselor, cm_enrollment=episode, amount=D("5"), reward_ref=f"WALK-{n}")
        starts.append(reverse_url("contingency:episode", episode.pk))
    unenrolled = (
        open_patients.filter(primary_counselor=counselor)
        .exclude(pk__in=[p.pk for p in wanted])
        .first()
    )
    if unenrolled is not None:
        starts.append(reverse_url("contingency:enroll", unenrolled.pk))
    return starts


def reverse_url(name: str, *args: int) -> str:
    from django.urls import reverse

    return reverse(name, args=list(args))
