"""Contingency management: rewards for objectively verified behaviour, most often a
stimulant-negative urine test (CLINICAL.md, "Contingency management").

A ``Program`` holds a site's rules (target, escalating schedule, resets, restore rule,
caps, reward kind); a ``CMEnrollment`` puts one patient on it for an episode. The
``LedgerEntry`` table is the whole history, append-only: every evaluated test (earned,
or not earned and why), every reversal, every reward handed out and its reconciliation.
Each row carries the schedule step, the amount and the running totals against each cap
as they stood after it, so an auditor reads the ledger without recomputing anything.

Amounts are computed by ``contingency.services.ledger`` from results, never typed. The
service appends under a row lock on the enrollment, and the database checks that no
running total passes its cap (the caps are copied onto each row for that check), so two
results recorded at the same moment cannot exceed a cap. On PostgreSQL a trigger refuses
UPDATE and DELETE on the ledger (migration 0002).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from core import limits
from core.models import Site
from drugtests.models import Analyte, Selection
from patients.models import Enrollment, Patient
from scheduling.models import Attendance

STIMULANTS = [Analyte.COCAINE, Analyte.AMPHETAMINE, Analyte.METHAMPHETAMINE, Analyte.MDMA]


def default_target_analytes() -> list[str]:
    return [str(a) for a in STIMULANTS]


class Target(models.TextChoices):
    TEST = "test", "Negative drug test (target analytes)"
    ATTENDANCE = "attendance", "Attended session"


class RewardKind(models.TextChoices):
    VOUCHER = "voucher", "Voucher"
    GIFT_CARD = "gift_card", "Gift card"
    PRIZE_DRAW = "prize_draw", "Prize draw"


class Program(models.Model):
    """A site's CM program. Defaults follow California's Recovery Incentives Program."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="cm_programs")
    name = models.CharField(max_length=120)
    target = models.CharField(max_length=12, choices=Target.choices, default=Target.TEST)
    # Only these analytes decide a test (a stimulant-negative test earns even when another
    # drug is positive, under California's rules).
    target_analytes = models.JSONField(default=default_target_analytes)
    start_amount = models.DecimalField(max_digits=7, decimal_places=2, default=Decimal("10.00"))
    step_amount = models.DecimalField(max_digits=7, decimal_places=2, default=Decimal("1.50"))
    max_amount = models.DecimalField(max_digits=7, decimal_places=2, default=Decimal("26.50"))
    reset_on_positive = models.BooleanField(default=True)
    reset_on_missed = models.BooleanField(default=True)
    reset_on_refused = models.BooleanField(default=True)
    # After a reset, this many consecutive qualifying results restore the step held
    # before the reset (0: never restore).
    restore_after = models.PositiveSmallIntegerField(default=5)
    episode_cap = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("599.00"))
    year_cap = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("750.00"))
    episode_weeks = models.PositiveSmallIntegerField(default=24)
    reward_kind = models.CharField(
        max_length=12, choices=RewardKind.choices, default=RewardKind.GIFT_CARD
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["site", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start_amount__gt=0) & Q(start_amount__lte=F("max_amount")),
                name="cm_start_within_max",
            ),
            models.CheckConstraint(condition=Q(step_amount__gte=0), name="cm_step_not_negative"),
            models.CheckConstraint(
                condition=Q(episode_cap__gt=0) & Q(year_cap__gt=0), name="cm_caps_positive"
            ),
            models.CheckConstraint(
                condition=Q(episode_weeks__gte=1) & Q(episode_weeks__lte=104),
                name="cm_episode_weeks_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def amount_at(self, step: int) -> Decimal:
        """What a qualifying result earns at ``step`` (1 = the first), before any cap."""
        amount = self.start_amount + self.step_amount * (step - 1)
        return min(amount, self.max_amount)


class CMEnrollment(models.Model):
    """One patient's episode on a program."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        ENDED = "ended", "Ended"

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="enrollments")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="cm_enrollments")
    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    starts_on = models.DateField(help_text="Site-local first day that counts.")
    ends_on = models.DateField(help_text="Site-local last day that counts.")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.TextField(max_length=limits.SHORT_REASON, blank=True)

    class Meta:
        ordering = ["-starts_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"], condition=Q(status="active"), name="cm_one_active_episode"
            ),
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")), name="cm_ends_after_start"
            ),
            limits.length_constraint("end_reason", limits.SHORT_REASON),
        ]

    def __str__(self) -> str:
        return f"{self.patient} on {self.program} from {self.starts_on}"


class LedgerEntry(models.Model):
    """One append-only line of an episode's ledger."""

    class Kind(models.TextChoices):
        EARNED = "earned", "Earned"
        NOT_EARNED = "not_earned", "Not earned"
        REVERSAL = "reversal", "Reversed"
        ISSUED = "issued", "Reward handed out"
        RECONCILED = "reconciled", "Reconciled"

    class Reason(models.TextChoices):
        NEGATIVE = "negative", "Target analytes negative"
        ATTENDED = "attended", "Attended"
        CAPPED = "capped", "Qualifying, but the cap is reached"
        POSITIVE = "positive", "Target analyte positive"
        MISSED = "missed", "Missed"
        REFUSED = "refused", "Refused"
        INVALID = "invalid", "Invalid specimen"
        NOT_TESTED = "not_tested", "A target analyte was not tested"
        ABSENT = "absent", "Absent"
        OVERTURNED = "overturned", "Lab confirmation overturned the cup result"
        HANDED_OUT = "handed_out", "Handed out"
        REDEEMED = "redeemed", "Voucher redeemed / card activation confirmed"

    enrollment = models.ForeignKey(CMEnrollment, on_delete=models.PROTECT, related_name="ledger")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    seq = models.PositiveIntegerField(help_text="Position in the episode's ledger, from 1.")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    reason = models.CharField(max_length=12, choices=Reason.choices)
    selection = models.ForeignKey(
        Selection, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    attendance = models.ForeignKey(
        Attendance, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # A reversal names the entry it reverses; a reconciliation the reward it reconciles.
    related = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    occurred_on = models.DateField(help_text="Site-local day of the test, session or hand-out.")
    # The schedule step this result was counted at (earned / not earned).
    step = models.PositiveSmallIntegerField(null=True, blank=True)
    # The step the next qualifying result will be counted at, and the restore state.
    next_step = models.PositiveSmallIntegerField(default=1)
    restore_step = models.PositiveSmallIntegerField(default=0)
    since_reset = models.PositiveSmallIntegerField(default=0)
    # The change this entry makes to the balance: earned >= 0, a reversal <= 0, a reward
    # handed out < 0 (it leaves the balance and stays in the earned totals).
    amount = models.DecimalField(max_digits=8, decimal_places=2)
    # Running totals after this entry: earned in the episode, earned in the site-local
    # calendar year (across the patient's episodes), and earned minus handed out.
    episode_total = models.DecimalField(max_digits=8, decimal_places=2)
    year = models.PositiveSmallIntegerField()
    year_total = models.DecimalField(max_digits=8, decimal_places=2)
    balance = models.DecimalField(max_digits=8, decimal_places=2)
    episode_cap = models.DecimalField(max_digits=8, decimal_places=2)
    year_cap = models.DecimalField(max_digits=8, decimal_places=2)
    reward_kind = models.CharField(max_length=12, choices=RewardKind.choices, blank=True)
    reward_ref = models.CharField(max_length=80, blank=True, help_text="Voucher or card id.")
    note = models.TextField(max_length=limits.SHORT_REASON, blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["enrollment", "seq"]
        verbose_name_plural = "ledger entries"
        constraints = [
            models.UniqueConstraint(fields=["enrollment", "seq"], name="cm_ledger_seq_once"),
            # A test or a session is counted once per episode; a rerun appends nothing.
            # A lab result that turns a test not earned into a negative (or a test whose
            # target analyte went untested into a positive) is counted again once, as an
            # entry naming the first count (``related``).
            models.UniqueConstraint(
                fields=["enrollment", "selection"],
                condition=Q(kind__in=["earned", "not_earned"], related__isnull=True),
                name="cm_test_counted_once",
            ),
            models.UniqueConstraint(
                fields=["related"],
                condition=Q(kind__in=["earned", "not_earned"]),
                name="cm_recounted_once",
            ),
            models.UniqueConstraint(
                fields=["enrollment", "attendance"],
                condition=Q(kind__in=["earned", "not_earned"]),
                name="cm_session_counted_once",
            ),
            models.UniqueConstraint(
                fields=["related"], condition=Q(kind="reversal"), name="cm_reversed_once"
            ),
            models.UniqueConstraint(
                fields=["related"], condition=Q(kind="reconciled"), name="cm_reconciled_once"
            ),
            models.CheckConstraint(
                condition=Q(episode_total__lte=F("episode_cap")), name="cm_within_episode_cap"
            ),
            models.CheckConstraint(
                condition=Q(year_total__lte=F("year_cap")), name="cm_within_year_cap"
            ),
            models.CheckConstraint(
                condition=Q(kind="earned", amount__gte=0)
                | Q(kind="not_earned", amount=0)
                | Q(kind="reversal", amount__lte=0, related__isnull=False)
                | Q(kind="issued", amount__lt=0, balance__gte=0)
                | Q(kind="reconciled", amount=0, related__isnull=False),
                name="cm_amount_sign_by_kind",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["earned", "not_earned"])
                | Q(selection__isnull=False, attendance__isnull=True)
                | Q(selection__isnull=True, attendance__isnull=False),
                name="cm_counted_entry_has_source",
            ),
            limits.length_constraint("note", limits.SHORT_REASON),
        ]
        indexes = [
            models.Index(fields=["patient", "year"], name="cm_ledger_patient_year"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.get_kind_display()} {self.amount}"
