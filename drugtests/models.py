"""Random drug testing: policies, daily draws, selections, collection, results, alerts.

A ``Draw`` is the auditable record of one site's random selection on one site-local day
(see ``draws`` for the cryptographic design). Draws and their pools are immutable: the
model refuses updates and deletes, the admin is read-only, and ``verify_draws``
recomputes every draw from its stored inputs so a change made behind the application's
back (SQL) is still detected. Corrections are new ``DrawCorrection`` records that
reference the draw.
"""

from __future__ import annotations

import re
from datetime import time
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.functional import cached_property

from core import limits
from core.models import Site


class Analyte(models.TextChoices):
    OPIATES = "opiates", "Opiates (morphine, codeine)"
    HEROIN = "6mam", "Heroin (6-MAM)"
    FENTANYL = "fentanyl", "Fentanyl"
    OXYCODONE = "oxycodone", "Oxycodone"
    BUPRENORPHINE = "buprenorphine", "Buprenorphine"
    METHADONE = "methadone", "Methadone (EDDP)"
    COCAINE = "cocaine", "Cocaine"
    AMPHETAMINE = "amphetamine", "Amphetamine"
    METHAMPHETAMINE = "methamphetamine", "Methamphetamine"
    MDMA = "mdma", "MDMA"
    THC = "thc", "Cannabis (THC)"
    BENZODIAZEPINES = "benzodiazepines", "Benzodiazepines"
    BARBITURATES = "barbiturates", "Barbiturates"
    ALCOHOL = "etg", "Alcohol (EtG)"
    XYLAZINE = "xylazine", "Xylazine"


# Positive for any of these (not explained by a prescription) raises overdose risk.
OPIOID_ANALYTES = frozenset(
    {
        Analyte.OPIATES,
        Analyte.HEROIN,
        Analyte.FENTANYL,
        Analyte.OXYCODONE,
        Analyte.BUPRENORPHINE,
        Analyte.METHADONE,
    }
)
DEFAULT_PANEL = [
    Analyte.OPIATES,
    Analyte.HEROIN,
    Analyte.FENTANYL,
    Analyte.OXYCODONE,
    Analyte.BUPRENORPHINE,
    Analyte.METHADONE,
    Analyte.COCAINE,
    Analyte.AMPHETAMINE,
    Analyte.METHAMPHETAMINE,
    Analyte.THC,
    Analyte.BENZODIAZEPINES,
    Analyte.ALCOHOL,
    Analyte.XYLAZINE,
]


class SpecimenType(models.TextChoices):
    URINE = "urine", "Urine"
    ORAL_FLUID = "oral_fluid", "Oral fluid"
    BREATH = "breath", "Breath alcohol"


class Period(models.TextChoices):
    WEEK = "week", "per week"
    MONTH = "month", "per month"


class DeadlineKind(models.TextChoices):
    TIME = "time", "By a time of day"
    SESSION = "session", "At today's session (end of day)"


WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
_days_validator = RegexValidator(
    r"^[0-6]{1,7}$", "Weekdays as digits 0 (Monday) to 6 (Sunday), e.g. 01234."
)


def validate_panel(value: object) -> None:
    if not isinstance(value, list) or not value:
        raise ValidationError("Choose at least one analyte.")
    unknown = sorted(set(value) - set(Analyte.values))
    if unknown:
        raise ValidationError(f"Unknown analytes: {', '.join(unknown)}.")


class TestingPolicy(models.Model):
    """How often and how a site tests patients of one phase (phase empty: the site default)."""

    __test__ = False  # not a pytest class, despite the name

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="testing_policies")
    phase = models.ForeignKey(
        "patients.ProgramPhase",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty: the site's default policy for patients without a phase policy.",
    )
    name = models.CharField(max_length=80)
    frequency = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    period = models.CharField(max_length=5, choices=Period.choices, default=Period.WEEK)
    collection_days = models.CharField(
        max_length=7,
        default="01234",
        validators=[_days_validator],
        help_text="Weekdays on which the site collects: 0 = Monday ... 6 = Sunday.",
    )
    deadline_kind = models.CharField(
        max_length=8, choices=DeadlineKind.choices, default=DeadlineKind.TIME
    )
    deadline_time = models.TimeField(default=time(17, 0), help_text="Site-local time.")
    specimen_type = models.CharField(
        max_length=12, choices=SpecimenType.choices, default=SpecimenType.URINE
    )
    panel = models.JSONField(default=list, validators=[validate_panel])
    observed_required = models.BooleanField(default=False)
    missed_counts_positive = models.BooleanField(
        default=True, help_text="A missed or refused test counts as positive in compliance."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["site", "phase__number", "pk"]
        verbose_name_plural = "testing policies"
        constraints = [
            models.UniqueConstraint(
                fields=["site", "phase"],
                condition=Q(is_active=True, phase__isnull=False),
                name="one_active_policy_per_phase",
            ),
            models.UniqueConstraint(
                fields=["site"],
                condition=Q(is_active=True, phase__isnull=True),
                name="one_active_default_policy_per_site",
            ),
            models.CheckConstraint(condition=Q(frequency__gte=1), name="policy_frequency_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    @cached_property
    def weekdays(self) -> frozenset[int]:
        return frozenset(int(c) for c in self.collection_days)

    @property
    def weekday_labels(self) -> str:
        return ", ".join(WEEKDAYS[d] for d in sorted(self.weekdays))

    @property
    def frequency_label(self) -> str:
        return f"{self.frequency} {self.get_period_display()}"

    def clean(self) -> None:
        if self.collection_days and not re.fullmatch(r"[0-6]{1,7}", self.collection_days):
            return  # the field validator reports it
        days = len(set(self.collection_days or ""))
        # The most collection days a period can have; p = frequency / days must stay <= 1.
        most = days if self.period == Period.WEEK else days * 4
        if days and self.frequency > most:
            raise ValidationError(
                {"frequency": f"At most {most} tests {self.get_period_display()} on these days."}
            )
        phase = self.phase if self.phase_id and self.site_id else None
        if phase is not None and phase.site_id != self.site_id:
            raise ValidationError({"phase": "That phase belongs to another site."})


class SiteTestingSettings(models.Model):
    """When a site's daily draw runs (site-local time); a site without a row uses 06:00."""

    site = models.OneToOneField(Site, on_delete=models.PROTECT, related_name="testing_settings")
    draw_time = models.TimeField(default=time(6, 0))
    draws_enabled = models.BooleanField(default=True)

    class Meta:
        verbose_name_plural = "site testing settings"

    def __str__(self) -> str:
        return f"{self.site}: draw at {self.draw_time:%H:%M}"


class ImmutableError(Exception):
    pass


class ImmutableModel(models.Model):
    """Written once by the draw service; refuses every later save or delete."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise ImmutableError(
                f"{self._meta.verbose_name} records are immutable; record a correction instead."
            )
        return super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ImmutableError(f"{self._meta.verbose_name} records are never deleted.")


class Draw(ImmutableModel):
    """One site's random draw for one site-local day (see ``drugtests.draws``)."""

    class Status(models.TextChoices):
        # The commitment and frozen pool are written first, then the seed and result.
        COMMITTED = "committed", "Committed (seed hidden)"
        FINAL = "final", "Final"

    class Trigger(models.TextChoices):
        BEAT = "beat", "Scheduled"
        COMMAND = "command", "Command line"
        DEMO = "demo", "Demo data"

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="draws")
    date = models.DateField(help_text="Site-local day of the draw.")
    seq = models.PositiveIntegerField(help_text="Position in the site's chain, from 1.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.COMMITTED)
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.COMMAND)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    seed_commitment = models.CharField(max_length=64, help_text="SHA-256 of the seed.")
    seed = models.CharField(max_length=64, blank=True, help_text="32-byte seed, hex.")
    pool_hash = models.CharField(max_length=64)
    pool_size = models.PositiveIntegerField(default=0)
    selected_count = models.PositiveIntegerField(default=0)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["site", "-date"]
        constraints = [
            # The idempotency key: one random draw per site and site-local day.
            models.UniqueConstraint(fields=["site", "date"], name="one_draw_per_site_day"),
            models.UniqueConstraint(fields=["site", "seq"], name="draw_chain_position_unique"),
        ]

    def __str__(self) -> str:
        return f"Draw {self.pk} ({self.site.code} {self.date})"


class DrawPoolEntry(ImmutableModel):
    """One eligible patient in a draw's frozen pool, with their chance and their number.

    Evidence, like the audit trail: the references carry no database constraint (the ids
    were read in the draw's own transaction, and ``verify_draws`` checks every row against
    the pool hash), which keeps a 10,000-patient draw free of 40,000 foreign-key checks.
    """

    # The unique (draw, patient) index serves lookups by draw.
    draw = models.ForeignKey(
        Draw, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="pool"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    # Never looked up by these two: no index to maintain on 10,000 inserts a day.
    enrollment = models.ForeignKey(
        "patients.Enrollment",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    policy = models.ForeignKey(
        TestingPolicy,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    # p = p_num / p_den exactly (frequency / collection days in the period).
    p_num = models.PositiveSmallIntegerField()
    p_den = models.PositiveSmallIntegerField()
    # First 8 bytes of HMAC-SHA256(seed, "draw id|patient id"), hex: the patient's uniform.
    uniform = models.CharField(max_length=16, blank=True)
    selected = models.BooleanField(default=False)

    class Meta:
        ordering = ["draw", "patient_id"]
        constraints = [
            models.UniqueConstraint(fields=["draw", "patient"], name="pool_patient_once"),
        ]

    def __str__(self) -> str:
        return f"{self.draw_id}: patient {self.patient_id}"

    @property
    def probability(self) -> float:
        return self.p_num / self.p_den


class DrawCorrection(models.Model):
    """A correction never edits a draw: it references it (e.g. excuses one selection)."""

    class Kind(models.TextChoices):
        EXCUSE = "excuse", "Selection excused"
        NOTE = "note", "Note on the draw"

    draw = models.ForeignKey(Draw, on_delete=models.PROTECT, related_name="corrections")
    selection = models.ForeignKey(
        "Selection", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    reason = models.TextField(max_length=limits.REASON)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="correction_has_reason"),
            limits.length_constraint("reason", limits.REASON),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on draw {self.draw_id}"


class Outcome(models.TextChoices):
    NEGATIVE = "negative", "Negative"
    POSITIVE = "positive", "Positive"
    EXPLAINED = "explained", "Positive (explained by prescription)"
    INVALID = "invalid", "Invalid specimen"
    MISSED = "missed", "Missed"
    REFUSED = "refused", "Refused"


POSITIVE_OUTCOMES = frozenset({Outcome.POSITIVE})
NON_COMPLIANT_OUTCOMES = frozenset({Outcome.MISSED, Outcome.REFUSED})


class Selection(models.Model):
    """A test a patient must give on a day: drawn at random, or ordered for cause."""

    class Kind(models.TextChoices):
        RANDOM = "random", "Random"
        FOR_CAUSE = "for_cause", "For cause"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        COLLECTED = "collected", "Collected"
        MISSED = "missed", "Missed"
        REFUSED = "refused", "Refused"
        EXCUSED = "excused", "Excused"

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="test_selections"
    )
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    date = models.DateField(help_text="Site-local day of the test.")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    draw = models.ForeignKey(
        Draw, null=True, blank=True, on_delete=models.PROTECT, related_name="selections"
    )
    policy = models.ForeignKey(TestingPolicy, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(
        blank=True, help_text="Why a for-cause test was ordered.", max_length=limits.REASON
    )
    ordered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    deadline = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-date", "patient__legal_last_name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["draw", "patient"], name="selected_once_per_draw"),
            models.CheckConstraint(
                condition=(Q(kind="random") & Q(draw__isnull=False))
                | (Q(kind="for_cause") & Q(draw__isnull=True) & ~Q(reason="")),
                name="random_has_draw_for_cause_has_reason",
            ),
            limits.length_constraint("reason", limits.REASON),
        ]
        indexes = [
            models.Index(fields=["site", "date"], name="selection_site_date"),
            models.Index(fields=["status", "deadline"], name="selection_status_deadline"),
            models.Index(fields=["patient", "date"], name="selection_patient_date"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} test for {self.patient_id} on {self.date}"


class Validity(models.TextChoices):
    VALID = "valid", "Valid"
    DILUTE = "dilute", "Dilute"
    ADULTERATED = "adulterated", "Adulterated"
    SUBSTITUTED = "substituted", "Substituted"
    # The last two come from the laboratory only: "invalid" is a specimen its validity
    # tests could not read (interference, an unidentified adulterant); "rejected" is one
    # it did not test at all (a broken seal, a mismatched label), so nothing is counted.
    INVALID = "invalid", "Invalid (laboratory)"
    REJECTED = "rejected", "Rejected by the laboratory"


INVALID_VALIDITY = frozenset({Validity.ADULTERATED, Validity.SUBSTITUTED, Validity.INVALID})
# What a collector can judge at the cup; the others are the laboratory's findings.
COLLECTOR_VALIDITY = (Validity.VALID, Validity.DILUTE, Validity.ADULTERATED, Validity.SUBSTITUTED)


class Method(models.TextChoices):
    POC = "poc", "Point-of-care cup"
    LAB = "lab", "Sent to laboratory"


class Specimen(models.Model):
    selection = models.OneToOneField(Selection, on_delete=models.PROTECT, related_name="specimen")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    collected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    collected_at = models.DateTimeField()
    specimen_type = models.CharField(max_length=12, choices=SpecimenType.choices)
    observed = models.BooleanField()
    temperature_in_range = models.BooleanField(
        null=True, blank=True, help_text="Urine: 90-100 °F within 4 minutes of voiding."
    )
    creatinine_mg_dl = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    specific_gravity = models.DecimalField(max_digits=5, decimal_places=4, null=True, blank=True)
    ph = models.DecimalField(max_digits=4, decimal_places=2, null=True, blank=True)
    oxidants_detected = models.BooleanField(null=True, blank=True)
    validity = models.CharField(max_length=12, choices=Validity.choices, blank=True)
    chain_of_custody_id = models.CharField(max_length=40, unique=True)
    method = models.CharField(max_length=4, choices=Method.choices)
    notes = models.TextField(blank=True, max_length=limits.NOTE)

    class Meta:
        ordering = ["-collected_at"]
        constraints = [
            # An out-of-range temperature must come with a validity finding.
            models.CheckConstraint(
                condition=~Q(temperature_in_range=False) | ~Q(validity=""),
                name="temperature_out_of_range_needs_validity",
            ),
            models.CheckConstraint(
                condition=~Q(chain_of_custody_id=""), name="chain_of_custody_required"
            ),
            limits.length_constraint("notes", limits.NOTE),
        ]

    def __str__(self) -> str:
        return f"Specimen {self.chain_of_custody_id}"

    @property
    def is_invalid(self) -> bool:
        return self.validity in INVALID_VALIDITY


class AnalyteOutcome(models.TextChoices):
    POSITIVE = "positive", "Positive"
    NEGATIVE = "negative", "Negative"
    NOT_TESTED = "not_tested", "Not tested"


class Interpretation(models.TextChoices):
    EXPECTED_POSITIVE = "expected_positive", "Expected positive (prescribed)"
    UNEXPECTED_POSITIVE = "unexpected_positive", "Unexpected positive"
    EXPECTED_NEGATIVE = "expected_negative", "Expected negative"
    PRESCRIBED_ABSENT = "prescribed_absent", "Prescribed but absent"
    NOT_TESTED = "not_tested", "Not tested"


class Via(models.TextChoices):
    ENTERED = "entered", "Entered by staff"
    INTERFACE = "interface", "Received from the laboratory's interface"


class TestResult(models.Model):
    """Results of one specimen from one source; a lab confirmation is a second row.

    Typed results are one per source. A laboratory's interface (the labs app) sends a
    report per message: screens, later their confirmations, later a correction, each a
    row of its own whose readings supersede the earlier ones (``AnalyteResult``)."""

    __test__ = False

    specimen = models.ForeignKey(Specimen, on_delete=models.PROTECT, related_name="results")
    source = models.CharField(max_length=4, choices=Method.choices)
    # Empty for a report the interface applied by itself: nobody entered it.
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    entered_at = models.DateTimeField()
    lab_name = models.CharField(max_length=120, blank=True)
    # MAT on the collection day, as used for the interpretation (medication codes).
    prescribed = models.JSONField(default=list)
    # Database defaults too: the benchmark seeder inserts rows with SQL of its own.
    via = models.CharField(
        max_length=10, choices=Via.choices, default=Via.ENTERED, db_default=Via.ENTERED
    )
    # The laboratory's reference for the report (an HL7 message's control id).
    reference = models.CharField(max_length=80, blank=True, default="", db_default="")
    reported_at = models.DateTimeField(null=True, blank=True)
    lab_note = models.TextField(blank=True, default="", db_default="", max_length=limits.NOTE)

    class Meta:
        ordering = ["entered_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["specimen", "source"],
                condition=Q(via="entered"),
                name="one_entered_result_per_source",
            ),
            models.CheckConstraint(
                condition=Q(via="entered") | Q(source="lab"), name="interface_results_are_lab"
            ),
            limits.length_constraint("lab_note", limits.NOTE),
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()} result for {self.specimen}"

    @property
    def source_label(self) -> str:
        return "Lab result" if self.source == Method.LAB else "Point-of-care result"

    @property
    def by_interface(self) -> bool:
        return self.via == Via.INTERFACE

    @property
    def prescribed_labels(self) -> list[str]:
        from patients.models import Medication

        return [Medication(m).label if m in Medication.values else m for m in self.prescribed]


class Stage(models.TextChoices):
    SCREEN = "screen", "Screen"
    CONFIRMATION = "confirmation", "Confirmation"


class ResultStatus(models.TextChoices):
    """The laboratory's status of one reading (HL7 OBX-11: F, C, P)."""

    FINAL = "final", "Final"
    CORRECTED = "corrected", "Corrected"
    PRELIMINARY = "preliminary", "Preliminary"


class AnalyteResult(models.Model):
    """One analyte's reading. A later lab reading of the same analyte and stage (a
    correction, or the final after a preliminary) supersedes this one, which stays as
    history; ``effective_results`` reads only the current ones."""

    result = models.ForeignKey(TestResult, on_delete=models.PROTECT, related_name="analytes")
    analyte = models.CharField(max_length=20, choices=Analyte.choices)
    outcome = models.CharField(max_length=12, choices=AnalyteOutcome.choices)
    ng_ml = models.DecimalField("ng/mL", max_digits=9, decimal_places=1, null=True, blank=True)
    interpretation = models.CharField(max_length=20, choices=Interpretation.choices)
    # What the laboratory sent, beside the reading above (empty for a typed result).
    # Database defaults too: the benchmark seeder inserts rows with SQL of its own.
    stage = models.CharField(
        max_length=12, choices=Stage.choices, default=Stage.SCREEN, db_default=Stage.SCREEN
    )
    status = models.CharField(
        max_length=12,
        choices=ResultStatus.choices,
        default=ResultStatus.FINAL,
        db_default=ResultStatus.FINAL,
    )
    value_text = models.CharField(max_length=80, blank=True, default="", db_default="")
    units = models.CharField(max_length=20, blank=True, default="", db_default="")
    reference_range = models.CharField(max_length=60, blank=True, default="", db_default="")
    cutoff = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)
    abnormal_flag = models.CharField(max_length=10, blank=True, default="", db_default="")
    note = models.TextField(blank=True, default="", db_default="", max_length=limits.NOTE)
    superseded_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="supersedes"
    )

    class Meta:
        ordering = ["result", "analyte", "stage"]
        constraints = [
            models.UniqueConstraint(
                fields=["result", "analyte", "stage"], name="analyte_stage_once_per_result"
            ),
            models.CheckConstraint(
                condition=Q(ng_ml__isnull=True) | Q(ng_ml__gte=0), name="ng_ml_not_negative"
            ),
            limits.length_constraint("note", limits.NOTE),
        ]

    def __str__(self) -> str:
        return f"{self.analyte}: {self.outcome}"

    @property
    def is_current(self) -> bool:
        return self.superseded_by_id is None

    @property
    def value_label(self) -> str:
        """The value as the laboratory gave it (with its units), else the concentration."""
        if self.value_text:
            return f"{self.value_text} {self.units}".strip()
        return "" if self.ng_ml is None else f"{self.ng_ml} ng/mL"


class TestAlert(models.Model):
    """Something staff must act on. Delivered by the notifications app once it lands."""

    __test__ = False

    class Kind(models.TextChoices):
        UNEXPECTED_POSITIVE = "unexpected_positive", "Unexpected positive"
        PRESCRIBED_ABSENT = "prescribed_absent", "Prescribed but absent"
        MISSED = "missed", "Missed test"
        INVALID_SPECIMEN = "invalid_specimen", "Invalid specimen"
        SPECIMEN_REJECTED = "specimen_rejected", "Specimen rejected by the laboratory"
        OPIOID_POSITIVE = "opioid_positive", "Opioid positive: safety plan and naloxone check"

    kind = models.CharField(max_length=24, choices=Kind.choices)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    selection = models.ForeignKey(Selection, on_delete=models.PROTECT, related_name="alerts")
    specimen = models.ForeignKey(
        Specimen, null=True, blank=True, on_delete=models.PROTECT, related_name="alerts"
    )
    analyte = models.CharField(max_length=20, choices=Analyte.choices, blank=True)
    created_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolution_note = models.TextField(blank=True, max_length=limits.NOTE)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # A lab confirmation repeating a cup's finding does not raise a second alert.
            models.UniqueConstraint(
                fields=["selection", "kind", "analyte"], name="alert_once_per_finding"
            ),
            limits.length_constraint("resolution_note", limits.NOTE),
        ]
        indexes = [models.Index(fields=["site", "resolved_at"], name="alert_site_open")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.patient_id})"
