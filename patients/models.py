"""Patients and their episodes of care.

Current values on ``Enrollment`` are kept in step with the append-only
``EnrollmentEvent`` history in the same transaction (see ``services``); nothing here
is ever hard-deleted.
"""

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from core import limits
from core.models import Organization, Site
from core.phones import PhoneField

ADOLESCENT_UNDER_AGE = 18
MINIMUM_AGE = 12


def age_on(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


class ProgramLevel(models.TextChoices):
    OP = "1.0", "OP 1.0 · Outpatient"
    IOP = "2.1", "IOP 2.1 · Intensive outpatient"
    PHP = "2.5", "PHP 2.5 · Partial hospitalization"

    @property
    def short(self) -> str:
        return {"1.0": "OP", "2.1": "IOP", "2.5": "PHP"}[self.value]


# ASAM weekly minimums in minutes: (adult, adolescent). OP has none.
WEEKLY_MINIMUM_MINUTES = {
    ProgramLevel.OP: (0, 0),
    ProgramLevel.IOP: (9 * 60, 6 * 60),
    ProgramLevel.PHP: (20 * 60, 20 * 60),
}


def weekly_minimum_minutes(level: str, adolescent: bool) -> int:
    adult, young = WEEKLY_MINIMUM_MINUTES[ProgramLevel(level)]
    return young if adolescent else adult


class Substance(models.TextChoices):
    ALCOHOL = "alcohol", "Alcohol"
    OPIOIDS = "opioids", "Opioids (heroin, pills)"
    FENTANYL = "fentanyl", "Fentanyl"
    STIMULANTS = "stimulants", "Methamphetamine / amphetamine"
    COCAINE = "cocaine", "Cocaine"
    CANNABIS = "cannabis", "Cannabis"
    BENZODIAZEPINES = "benzodiazepines", "Benzodiazepines"
    OTHER = "other", "Other"


class Sex(models.TextChoices):
    FEMALE = "F", "Female"
    MALE = "M", "Male"
    INTERSEX = "X", "Intersex / other"
    UNKNOWN = "U", "Not stated"


class Language(models.TextChoices):
    # Endonyms: a patient picks the language they read, named in that language.
    EN = "en", "English"
    ES = "es", "Español"


class ContactChannel(models.TextChoices):
    SMS = "sms", _("Text message")
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone call")
    PORTAL = "portal", _("Portal only")


class ReferralSource(models.TextChoices):
    SELF = "self", "Self"
    DETOX = "detox", "Detox / withdrawal management"
    RESIDENTIAL = "residential", "Residential program"
    HOSPITAL = "hospital", "Hospital / ED"
    COURT = "court", "Court / probation"
    EMPLOYER = "employer", "Employer / EAP"
    PHYSICIAN = "physician", "Physician"
    FAMILY = "family", "Family"
    OTHER = "other", "Other"


class ProgramPhase(models.Model):
    """A site's own treatment phases (e.g. Phase 1 full intensity, 2 fewer days, 3 step-down)."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="phases")
    number = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=80)
    description = models.TextField(blank=True, max_length=limits.NOTE)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["site", "number"]
        constraints = [
            models.UniqueConstraint(fields=["site", "number"], name="phase_number_unique_per_site"),
            limits.length_constraint("description", limits.NOTE),
        ]

    def __str__(self) -> str:
        return self.name


class TrackKind(models.TextChoices):
    DAY = "day", "Day track"
    EVENING = "evening", "Evening track"


class Track(models.Model):
    """A cohort's weekly programme at one site, e.g. the IOP evening track.

    Part of the programme structure that enrollments and track memberships point at;
    scheduling builds its series and sessions on it. It lived in ``scheduling`` until
    patients and scheduling stopped importing each other, hence the table name.
    """

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="tracks")
    name = models.CharField(max_length=80)
    kind = models.CharField(max_length=10, choices=TrackKind.choices)
    level = models.CharField(max_length=3, choices=ProgramLevel.choices)
    default_facilitator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    room = models.CharField(max_length=80, blank=True)
    video_link = models.URLField(blank=True)
    capacity = models.PositiveSmallIntegerField(default=12)
    is_active = models.BooleanField(default=True)

    class Meta:
        db_table = "scheduling_track"
        ordering = ["site", "kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["site", "name"], name="track_name_unique_per_site"),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="track_capacity_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class Patient(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="patients")
    mrn = models.CharField("MRN", max_length=20)
    legal_first_name = models.CharField(max_length=80)
    legal_last_name = models.CharField(max_length=80)
    preferred_name = models.CharField(max_length=80, blank=True)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    gender_identity = models.CharField(max_length=60, blank=True)
    phone = PhoneField()
    email = models.EmailField(blank=True)
    # Portal pages, reminders and check-ins are shown to the patient in this language.
    preferred_language = models.CharField(
        max_length=2, choices=Language.choices, default=Language.EN
    )
    preferred_contact = models.CharField(
        max_length=10, choices=ContactChannel.choices, default=ContactChannel.SMS
    )
    emergency_contact_name = models.CharField(max_length=120, blank=True)
    emergency_contact_relationship = models.CharField(max_length=60, blank=True)
    emergency_contact_phone = PhoneField()
    # What was on file before numbers were checked and could not be read as one
    # (migration 0004_phone_e164): kept for staff to re-enter, flagged on the chart and
    # in the counselor's alert queue, and cleared when the number is saved again.
    phone_legacy = models.CharField(max_length=40, blank=True, editable=False)
    emergency_contact_phone_legacy = models.CharField(max_length=40, blank=True, editable=False)
    primary_substance = models.CharField(max_length=20, choices=Substance.choices)
    secondary_substance = models.CharField(max_length=20, choices=Substance.choices, blank=True)
    primary_counselor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="caseload",
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="patient",
        help_text="Portal account (optional).",
    )
    naloxone_kit_given_on = models.DateField(null=True, blank=True)
    safety_notes = models.TextField(blank=True, max_length=limits.NOTE)
    is_archived = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["legal_last_name", "legal_first_name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "mrn"], name="mrn_unique_per_org"),
            limits.length_constraint("safety_notes", limits.NOTE),
        ]
        indexes = [
            models.Index(fields=["site", "legal_last_name"], name="patient_site_name"),
            # The SMS webhook finds who texted STOP by number, within one organisation.
            models.Index(fields=["organization", "phone"], name="patient_org_phone"),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.mrn})"

    @property
    def display_name(self) -> str:
        first = self.preferred_name or self.legal_first_name
        return f"{first} {self.legal_last_name}"

    @property
    def legal_name(self) -> str:
        return f"{self.legal_first_name} {self.legal_last_name}"

    def age_on(self, on: date) -> int:
        return age_on(self.date_of_birth, on)

    def is_adolescent_on(self, on: date) -> bool:
        return self.age_on(on) < ADOLESCENT_UNDER_AGE


class EnrollmentStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    ON_HOLD = "on_hold", "On hold"
    DISCHARGED = "discharged", "Discharged"


OPEN_STATUSES = (EnrollmentStatus.ACTIVE, EnrollmentStatus.ON_HOLD)


class DischargeType(models.TextChoices):
    COMPLETED = "completed", "Completed successfully"
    STEPPED_DOWN = "stepped_down", "Stepped down to OP"
    TRANSFERRED_UP = "transferred_up", "Transferred to a higher level of care"
    AMA = "ama", "Left against medical advice"
    ADMINISTRATIVE = "administrative", "Administrative discharge"
    INCARCERATED = "incarcerated", "Incarcerated"
    DECEASED = "deceased", "Deceased"
    OTHER = "other", "Other"


class Enrollment(models.Model):
    """One episode of care. Re-admission opens a new one and keeps this."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="enrollments")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="enrollments")
    level = models.CharField(max_length=3, choices=ProgramLevel.choices)
    track = models.ForeignKey(
        Track,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="enrollments",
    )
    phase = models.ForeignKey(
        ProgramPhase, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        max_length=12, choices=EnrollmentStatus.choices, default=EnrollmentStatus.ACTIVE
    )
    admission_date = models.DateField()
    expected_end_date = models.DateField(null=True, blank=True)
    referral_source = models.CharField(
        max_length=20, choices=ReferralSource.choices, default=ReferralSource.SELF
    )
    referral_note = models.CharField(max_length=200, blank=True)
    discharge_date = models.DateField(null=True, blank=True)
    discharge_type = models.CharField(max_length=20, choices=DischargeType.choices, blank=True)
    aftercare_plan = models.TextField(blank=True, max_length=limits.NOTE)
    discharge_note = models.TextField(blank=True, max_length=limits.NOTE)
    # Optimistic lock: a form posts the version it was rendered with; a stale one is refused.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-admission_date", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(status__in=["active", "on_hold"]),
                name="one_open_enrollment_per_patient",
            ),
            models.CheckConstraint(
                condition=Q(discharge_date__isnull=True)
                | Q(discharge_date__gte=F("admission_date")),
                name="discharge_not_before_admission",
            ),
            models.CheckConstraint(
                condition=(
                    Q(status="discharged", discharge_date__isnull=False) & ~Q(discharge_type="")
                )
                | (~Q(status="discharged") & Q(discharge_date__isnull=True)),
                name="discharged_iff_discharge_recorded",
            ),
            models.CheckConstraint(
                condition=Q(expected_end_date__isnull=True)
                | Q(expected_end_date__gte=F("admission_date")),
                name="expected_end_not_before_admission",
            ),
            limits.length_constraint("aftercare_plan", limits.NOTE),
            limits.length_constraint("discharge_note", limits.NOTE),
        ]
        indexes = [models.Index(fields=["site", "status"], name="enrollment_site_status")]

    def __str__(self) -> str:
        return f"{self.patient.display_name}: {self.get_level_display()} from {self.admission_date}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @cached_property
    def level_short(self) -> str:
        return ProgramLevel(self.level).short


class EnrollmentEvent(models.Model):
    """Append-only history of an enrollment: every move, with its date, reason and author."""

    class Kind(models.TextChoices):
        ADMITTED = "admitted", "Admitted"
        LEVEL = "level", "Level of care changed"
        TRACK = "track", "Track changed"
        PHASE = "phase", "Phase changed"
        COUNSELOR = "counselor", "Counselor changed"
        ON_HOLD = "on_hold", "Put on hold"
        RESUMED = "resumed", "Resumed from hold"
        DISCHARGED = "discharged", "Discharged"

    enrollment = models.ForeignKey(Enrollment, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    effective_date = models.DateField()
    from_value = models.CharField(max_length=120, blank=True)
    to_value = models.CharField(max_length=120, blank=True)
    reason = models.TextField(blank=True, max_length=limits.NOTE)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["effective_date", "recorded_at", "pk"]
        constraints = [
            limits.length_constraint("reason", limits.NOTE),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.effective_date}"


class ScheduledChange(models.Model):
    """A future-dated admission or enrollment change, held until the site's local date
    reaches ``effective_date`` and then applied once through the same service as an
    immediate one. Until then the enrollment (census, rosters, minimums, draws) is
    untouched; a pending admission has no enrollment at all.
    """

    class Kind(models.TextChoices):
        ADMISSION = "admission", "Admission"
        LEVEL = "level", "Level of care change"
        TRACK = "track", "Track change"
        PHASE = "phase", "Phase change"
        COUNSELOR = "counselor", "Counselor change"
        HOLD = "hold", "Hold"
        RESUME = "resume", "Resume from hold"
        DISCHARGE = "discharge", "Discharge"

    class Status(models.TextChoices):
        PENDING = "pending", "Upcoming"
        APPLIED = "applied", "Applied"
        CANCELLED = "cancelled", "Cancelled"
        FAILED = "failed", "Could not be applied"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="scheduled_changes")
    # Null only for an admission until it is applied (it then points at the new episode).
    enrollment = models.ForeignKey(
        Enrollment,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="scheduled_changes",
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    effective_date = models.DateField()
    # The service's keyword arguments, model instances as primary keys.
    payload = models.JSONField(default=dict, blank=True)
    summary = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    applied_at = models.DateTimeField(null=True, blank=True)
    failure = models.TextField(blank=True, max_length=limits.REASON)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.TextField(blank=True, max_length=limits.REASON)

    class Meta:
        ordering = ["effective_date", "created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="admission") | Q(enrollment__isnull=False),
                name="scheduled_change_has_enrollment",
            ),
            models.CheckConstraint(
                condition=(Q(status="cancelled", cancelled_at__isnull=False) & ~Q(cancel_reason=""))
                | (~Q(status="cancelled") & Q(cancelled_at__isnull=True)),
                name="scheduled_change_cancelled_iff_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["applied", "failed"]) | Q(applied_at__isnull=False),
                name="scheduled_change_applied_has_time",
            ),
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(kind="admission", status="pending"),
                name="one_pending_admission_per_patient",
            ),
            limits.length_constraint("failure", limits.REASON),
            limits.length_constraint("cancel_reason", limits.REASON),
        ]
        indexes = [
            models.Index(fields=["status", "effective_date"], name="scheduled_change_due"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.effective_date} ({self.status})"


class TrackMembership(models.Model):
    """Effective-dated track roster: the patient attends this track's sessions from
    ``start_date`` to ``end_date`` (inclusive, site-local dates; open-ended when null).

    Changing track, holding or discharging closes the current row and may open a new
    one; past rows are never rewritten, so past rosters and attendance stay as they were.
    """

    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.PROTECT, related_name="track_memberships"
    )
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    track = models.ForeignKey(Track, on_delete=models.PROTECT, related_name="memberships")
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["start_date", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="membership_end_not_before_start",
            ),
        ]
        indexes = [models.Index(fields=["track", "start_date"], name="membership_track_start")]

    def __str__(self) -> str:
        return f"{self.patient_id} in {self.track_id} {self.start_date}..{self.end_date or ''}"

    def covers(self, on: date) -> bool:
        return self.start_date <= on and (self.end_date is None or on <= self.end_date)


class Medication(models.TextChoices):
    METHADONE = "methadone", "Methadone"
    BUPRENORPHINE_SL = "buprenorphine_sl", "Buprenorphine (sublingual)"
    BUPRENORPHINE_NALOXONE = "buprenorphine_naloxone", "Buprenorphine/naloxone (Suboxone)"
    BUPRENORPHINE_XR = "buprenorphine_xr", "Buprenorphine extended-release injection (Sublocade)"
    BUPRENORPHINE_IMPLANT = "buprenorphine_implant", "Buprenorphine implant"
    NALTREXONE_ORAL = "naltrexone_oral", "Naltrexone (oral)"
    NALTREXONE_XR = "naltrexone_xr", "Naltrexone extended-release injection (Vivitrol)"
    LOFEXIDINE = "lofexidine", "Lofexidine"
    CLONIDINE = "clonidine", "Clonidine"
    ACAMPROSATE = "acamprosate", "Acamprosate"
    DISULFIRAM = "disulfiram", "Disulfiram"
    OTHER = "other", "Other"


INJECTABLE_MEDICATIONS = frozenset(
    {Medication.BUPRENORPHINE_XR, Medication.NALTREXONE_XR, Medication.BUPRENORPHINE_IMPLANT}
)


class Frequency(models.TextChoices):
    DAILY = "daily", "Daily"
    TWICE_DAILY = "twice_daily", "Twice daily"
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"
    SIX_MONTHLY = "six_monthly", "Every 6 months"
    AS_NEEDED = "prn", "As needed"


class MedicationOrder(models.Model):
    """Medication-assisted treatment. Stopping sets ``stop_date``; nothing is deleted."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="medications")
    medication = models.CharField(max_length=30, choices=Medication.choices)
    other_name = models.CharField(max_length=80, blank=True)
    dose = models.CharField(max_length=40, help_text="e.g. 16 mg, 300 mg, 380 mg")
    frequency = models.CharField(max_length=12, choices=Frequency.choices)
    prescriber = models.CharField(max_length=120)
    start_date = models.DateField()
    stop_date = models.DateField(null=True, blank=True)
    stop_reason = models.CharField(max_length=200, blank=True)
    next_injection_due = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True, max_length=limits.NOTE)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-start_date", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(stop_date__isnull=True) | Q(stop_date__gte=F("start_date")),
                name="medication_stop_not_before_start",
            ),
            models.CheckConstraint(
                condition=Q(next_injection_due__isnull=True)
                | Q(next_injection_due__gte=F("start_date")),
                name="injection_due_not_before_start",
            ),
            limits.length_constraint("notes", limits.NOTE),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.dose}"

    @property
    def name(self) -> str:
        if self.medication == Medication.OTHER and self.other_name:
            return self.other_name
        return self.get_medication_display()

    def active_on(self, on: date) -> bool:
        return self.start_date <= on and (self.stop_date is None or on <= self.stop_date)


class ConsentSection(models.TextChoices):
    """The parts of the record a compliance letter may report, as a consent lists them."""

    ATTENDANCE = "attendance", "Attendance and weekly hours"
    DRUG_TESTS = "drug_tests", "Drug test dates and results"
    MEETINGS = "meetings", "Verified mutual-help meetings"
    STATUS = "status", "Current status and phase"


def sections_in_order(codes: object) -> list[str]:
    """The known section codes among ``codes``, once each, in ``ConsentSection`` order."""
    given = set(codes) if isinstance(codes, list | tuple | set | frozenset) else set()
    return [s.value for s in ConsentSection if s.value in given]


class Consent(models.Model):
    """A 42 CFR Part 2 written consent to disclose. Revoking sets ``revoked_on``."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="consents")
    recipient = models.CharField(max_length=200, help_text="Name of the person or organisation.")
    purpose = models.CharField(max_length=200)
    information_disclosed = models.TextField(
        help_text="What may be disclosed, e.g. attendance and drug test results.",
        max_length=limits.NOTE,
    )
    # The same consent in the words a letter is built from: which ``ConsentSection``s it
    # covers. On PostgreSQL the database refuses a code it does not know (migration 0008).
    sections = models.JSONField(
        default=list,
        blank=True,
        help_text="The sections of a compliance letter this consent covers.",
    )
    signed_on = models.DateField()
    expires_on = models.DateField(null=True, blank=True)
    revoked_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-signed_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True) | Q(expires_on__gte=F("signed_on")),
                name="consent_expiry_not_before_signature",
            ),
            models.CheckConstraint(
                condition=Q(revoked_on__isnull=True) | Q(revoked_on__gte=F("signed_on")),
                name="consent_revocation_not_before_signature",
            ),
            limits.length_constraint("information_disclosed", limits.NOTE),
        ]

    def __str__(self) -> str:
        return f"Consent to {self.recipient} ({self.purpose})"

    @property
    def section_labels(self) -> list[str]:
        return [ConsentSection(code).label for code in sections_in_order(self.sections)]

    def covers(self, sections: list[str] | tuple[str, ...]) -> bool:
        return set(sections) <= set(self.sections or [])

    def is_current(self, on: date) -> bool:
        if self.signed_on > on:
            return False
        if self.revoked_on is not None and self.revoked_on <= on:
            return False
        return self.expires_on is None or on <= self.expires_on
