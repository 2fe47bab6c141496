"""Measurement-based care: standard instruments kept as data, when each is due, and the
patient's answers and scores.

An ``Instrument`` (BAM, PHQ-9, GAD-7, and any other a site adds) is rows, not code: its
items and answer options (English and Spanish texts, LOINC answer codes), and its
``scoring`` (which items make the total and each subscale, the bands, the flags, the
reliable change, the items that start the safety workflow). Views and services read
those rows, so a new instrument needs a data migration or the admin, never a new view.

An ``Administration`` is one sitting of one instrument by one patient: due (made by the
schedule), in progress (answers are saved one by one, so the portal can resume), then
completed with its scores computed by ``measures.scoring`` and stored beside the answers.
A completed administration never changes: the services refuse it, and on PostgreSQL a
trigger refuses any UPDATE or DELETE of it and of its answers (migration 0002). What is
stored (item link ids, option codes, the instrument's LOINC codes and version) is
enough to produce a FHIR QuestionnaireResponse and Observation without loss.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from core import limits
from core.models import Site
from patients.models import Enrollment, Patient, ProgramLevel


class Language(models.TextChoices):
    ENGLISH = "en", "English"
    SPANISH = "es", "Spanish"


class Instrument(models.Model):
    """A standard questionnaire, one published version of it."""

    code = models.SlugField(max_length=20, help_text="Stable short name, e.g. phq9.")
    version = models.CharField(max_length=20, default="1")
    name = models.CharField(max_length=120)
    short_name = models.CharField(max_length=20)
    # Shown to the patient before the first question ("Over the last 2 weeks, ...").
    intro_en = models.TextField(max_length=limits.SHORT_REASON)
    intro_es = models.TextField(max_length=limits.SHORT_REASON)
    loinc_panel = models.CharField(max_length=20, blank=True)
    loinc_total = models.CharField(max_length=20, blank=True)
    # {"total": [item numbers], "max_total": 27,
    #  "bands": [{"min": 0, "max": 4, "label": "Minimal", "severity": 0}, ...],
    #  "subscales": {"use": {"label": "Use", "items": [4, 5, 6],
    #                        "flags": [{"op": ">", "value": 0, "label": "Any use"}]}},
    #  "flags": [{"item": 9, "op": ">", "value": 0, "label": "..."}],
    #  "reliable_change": 6, "lower_is_better": true, "safety_items": [9]}
    scoring = models.JSONField(default=dict)
    copyright = models.TextField(max_length=limits.SHORT_REASON, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["short_name", "version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="instrument_version_once"),
            limits.length_constraint("intro_en", limits.SHORT_REASON),
            limits.length_constraint("intro_es", limits.SHORT_REASON),
            limits.length_constraint("copyright", limits.SHORT_REASON),
        ]

    def __str__(self) -> str:
        return f"{self.short_name} (v{self.version})"

    def intro(self, language: str) -> str:
        return self.intro_es if language == Language.SPANISH and self.intro_es else self.intro_en


class InstrumentItem(models.Model):
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="items")
    number = models.PositiveSmallIntegerField()
    # The FHIR Questionnaire item linkId ("1", "7a").
    link_id = models.CharField(max_length=20)
    text_en = models.TextField(max_length=limits.SHORT_REASON)
    text_es = models.TextField(max_length=limits.SHORT_REASON)
    loinc = models.CharField(max_length=20, blank=True)
    # [{"value": 0, "code": "LA6568-5", "en": "Not at all", "es": "Para nada"}, ...]
    options = models.JSONField(default=list)
    # An unscored item (BAM 7a-g: which drugs) is asked and kept, and counts in no score.
    required = models.BooleanField(default=True)

    class Meta:
        ordering = ["instrument", "number"]
        constraints = [
            models.UniqueConstraint(fields=["instrument", "number"], name="item_number_once"),
            models.UniqueConstraint(fields=["instrument", "link_id"], name="item_link_id_once"),
            limits.length_constraint("text_en", limits.SHORT_REASON),
            limits.length_constraint("text_es", limits.SHORT_REASON),
        ]

    def __str__(self) -> str:
        return f"{self.instrument.short_name} item {self.link_id}"

    def text(self, language: str) -> str:
        return self.text_es if language == Language.SPANISH and self.text_es else self.text_en

    def option(self, value: int) -> dict[str, Any] | None:
        for option in self.options:
            if option["value"] == value:
                return dict(option)
        return None


class MeasureSchedule(models.Model):
    """When an instrument is due for patients at one level of care at one site.

    ``every_days`` counts from the admission (0: no repeat); ``at_admission`` and
    ``at_discharge`` add a sitting on those days. Defaults (CLINICAL.md): BAM every 7 days
    in IOP and PHP and every 30 in OP; PHQ-9 and GAD-7 at admission, every 30 days and at
    discharge."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="measure_schedules")
    instrument_code = models.SlugField(max_length=20)
    level = models.CharField(max_length=3, choices=ProgramLevel.choices)
    every_days = models.PositiveSmallIntegerField(default=0)
    at_admission = models.BooleanField(default=False)
    at_discharge = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["site", "instrument_code", "level"]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "instrument_code", "level"], name="one_schedule_per_level"
            ),
            models.CheckConstraint(condition=Q(every_days__lte=366), name="every_days_in_a_year"),
        ]

    def __str__(self) -> str:
        return f"{self.instrument_code} at {self.level}: every {self.every_days} days"


class Administration(models.Model):
    """One sitting of one instrument by one patient."""

    class Status(models.TextChoices):
        DUE = "due", "Due"
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"
        # Not answered before the next one fell due, or the patient left the program.
        EXPIRED = "expired", "Expired"

    class Reason(models.TextChoices):
        ADMISSION = "admission", "At admission"
        SCHEDULED = "scheduled", "Scheduled"
        DISCHARGE = "discharge", "At discharge"
        AD_HOC = "ad_hoc", "Requested by staff"

    class Mode(models.TextChoices):
        PORTAL = "portal", "Answered in the portal"
        WITH_STAFF = "with_staff", "Entered by staff with the patient"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="administrations")
    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=10, choices=Reason.choices)
    due_on = models.DateField(help_text="Site-local day it fell due.")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DUE)
    mode = models.CharField(max_length=10, choices=Mode.choices, blank=True)
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.ENGLISH)
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # The staff member who entered it with the patient, or the patient's own user.
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    total = models.SmallIntegerField(null=True, blank=True)
    # {"use": 3, "risk": 14, "protective": 11}
    subscales = models.JSONField(default=dict, blank=True)
    band = models.CharField(max_length=40, blank=True)
    # Labels of the flags raised: ["Thoughts of self-harm (item 9)", "Risk >= 12"]
    flags = models.JSONField(default=list, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-due_on", "-pk"]
        constraints = [
            # The schedule sweep may run twice a day or on two workers: one row per day.
            models.UniqueConstraint(
                fields=["patient", "instrument", "due_on", "reason"],
                name="one_administration_per_due_day",
            ),
            models.UniqueConstraint(
                fields=["patient", "instrument"],
                condition=Q(status__in=["due", "in_progress"]),
                name="one_open_administration_per_instrument",
            ),
            models.CheckConstraint(
                condition=Q(status="completed", completed_at__isnull=False, total__isnull=False)
                | (~Q(status="completed") & Q(completed_at__isnull=True)),
                name="completed_iff_scored",
            ),
            models.CheckConstraint(
                condition=~Q(status="completed") | ~Q(mode=""),
                name="completed_has_mode",
            ),
        ]
        indexes = [
            models.Index(fields=["patient", "status"], name="measures_adm_patient_status"),
            models.Index(fields=["status", "due_on"], name="measures_adm_status_due"),
        ]

    def __str__(self) -> str:
        return f"{self.instrument.short_name} for {self.patient} due {self.due_on}"

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.DUE, self.Status.IN_PROGRESS)


class Answer(models.Model):
    administration = models.ForeignKey(
        Administration, on_delete=models.PROTECT, related_name="answers"
    )
    item = models.ForeignKey(InstrumentItem, on_delete=models.PROTECT, related_name="+")
    value = models.SmallIntegerField()
    answered_at = models.DateTimeField()

    class Meta:
        ordering = ["administration", "item__number"]
        constraints = [
            models.UniqueConstraint(fields=["administration", "item"], name="answer_once"),
        ]

    def __str__(self) -> str:
        return f"{self.item}: {self.value}"


class SafetyEvent(models.Model):
    """An answer that needs a same-day safety follow-up (PHQ-9 item 9 above 0).

    Raised in the transaction that completes the administration; stays open (an urgent
    alert on the counselor's home, and the on-duty clinician's when the counselor is away)
    until a staff member records the follow-up."""

    class Action(models.TextChoices):
        ASSESSED_SAFE = "assessed_safe", "Risk assessed; safety plan reviewed"
        SAFETY_PLAN = "safety_plan", "Safety plan made or updated"
        CRISIS_REFERRAL = "crisis_referral", "Referred to crisis services (988, mobile crisis)"
        EMERGENCY = "emergency", "Emergency services called"
        NOT_REACHED = "not_reached", "Could not reach the patient; escalated"

    administration = models.OneToOneField(
        Administration, on_delete=models.PROTECT, related_name="safety_event"
    )
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    item_number = models.PositiveSmallIntegerField()
    value = models.SmallIntegerField()
    raised_at = models.DateTimeField()
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    followup_at = models.DateTimeField(null=True, blank=True)
    followup_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    followup_action = models.CharField(max_length=20, choices=Action.choices, blank=True)
    followup_note = models.TextField(max_length=limits.NOTE, blank=True)

    class Meta:
        ordering = ["-raised_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(followup_at__isnull=True, followup_action="")
                | Q(followup_at__isnull=False, followup_by__isnull=False) & ~Q(followup_action=""),
                name="followup_complete",
            ),
            limits.length_constraint("followup_note", limits.NOTE),
        ]
        indexes = [
            models.Index(
                fields=["patient"],
                condition=Q(followup_at__isnull=True),
                name="measures_safety_open",
            ),
        ]

    def __str__(self) -> str:
        return f"Safety follow-up for {self.patient} ({self.raised_at:%Y-%m-%d})"
