"""The clinical record: treatment plans (versioned), progress and group notes, their
signatures and addenda.

Signed content never changes. A plan version, a note, a group note and their parts are
editable while ``signed_at`` is empty; once signed, the services refuse every change, the
admin shows them read-only, and on PostgreSQL a trigger refuses any UPDATE of their
content and any DELETE (migration 0002). Corrections are ``Addendum`` rows beside the
untouched original (CMS Program Integrity Manual 3.3.2.5). ``Signature`` rows record who
signed, when, how, and the SHA-256 of exactly what was signed (``records.signing``).
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core import limits
from core.models import Site
from patients.models import Enrollment, Patient, ProgramLevel
from scheduling.models import Attendance, AttendanceStatus, Session


class RecordStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SIGNED = "signed", "Signed"
    # Signed by the author and countersigned by a licensed clinician.
    COSIGNED = "cosigned", "Co-signed"


class NoteFormat(models.TextChoices):
    DAP = "DAP", "DAP (Data, Assessment, Plan)"
    BIRP = "BIRP", "BIRP (Behavior, Intervention, Response, Plan)"
    SOAP = "SOAP", "SOAP (Subjective, Objective, Assessment, Plan)"


# The section fields a note of each format shows, in order. ``response`` (the patient's
# response, which every note carries) is BIRP's R and a field of its own in DAP and SOAP.
FORMAT_SECTIONS: dict[str, tuple[str, ...]] = {
    NoteFormat.DAP: ("data", "assessment", "plan", "response"),
    NoteFormat.BIRP: ("behavior", "intervention", "response", "plan"),
    NoteFormat.SOAP: ("subjective", "objective", "assessment", "plan", "response"),
}
SECTION_FIELDS = (
    "data",
    "behavior",
    "subjective",
    "objective",
    "intervention",
    "assessment",
    "response",
    "plan",
)


SECTION_LABELS = {name: name.capitalize() for name in SECTION_FIELDS}


class NoteKind(models.TextChoices):
    INDIVIDUAL = "individual", "Individual"
    FAMILY = "family", "Family"
    MAT = "mat", "MAT visit"
    GROUP = "group", "Group"


class ServiceType(models.TextChoices):
    INDIVIDUAL_COUNSELING = "individual_counseling", _("Individual counseling")
    FAMILY_COUNSELING = "family_counseling", _("Family counseling")
    GROUP_COUNSELING = "group_counseling", _("Group counseling")
    GROUP_CBT = "group_cbt", _("Group CBT")
    RELAPSE_PREVENTION = "relapse_prevention", _("Relapse-prevention group")
    MEDICATION_MANAGEMENT = "medication_management", _("MAT visit / medication management")
    CASE_MANAGEMENT = "case_management", _("Case management")
    PSYCHOEDUCATION = "psychoeducation", _("Psychoeducation")
    # Crisis notes are due within 24 hours, not the site's business-day window.
    CRISIS = "crisis", _("Crisis intervention")


class AsamDimension(models.IntegerChoices):
    INTOXICATION = 1, _("1 · Acute intoxication / withdrawal")
    BIOMEDICAL = 2, _("2 · Biomedical conditions")
    EMOTIONAL = 3, _("3 · Emotional, behavioral or cognitive conditions")
    READINESS = 4, _("4 · Readiness to change")
    RELAPSE = 5, _("5 · Relapse / continued-use potential")
    ENVIRONMENT = 6, _("6 · Recovery environment")


class ObjectiveStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    MET = "met", _("Met")
    REVISED = "revised", _("Revised")
    DISCONTINUED = "discontinued", _("Discontinued")


class PlanVersionKind(models.TextChoices):
    INITIAL = "initial", _("Initial plan")
    REVIEW = "review", _("Scheduled review")
    LEVEL_CHANGE = "level_change", _("Review at a change of level of care")


NOTE_FORMATS_DEFAULT = "DAP,BIRP,SOAP"


def validate_note_formats(value: str) -> None:
    from django.core.exceptions import ValidationError

    codes = [c.strip().upper() for c in value.split(",") if c.strip()]
    if not codes:
        raise ValidationError("Allow at least one note format.")
    unknown = [c for c in codes if c not in NoteFormat.values]
    if unknown:
        raise ValidationError(f"Unknown note format: {', '.join(unknown)} (DAP, BIRP or SOAP).")


class RecordSettings(models.Model):
    """A site's record rules (state rules vary; the defaults are CLINICAL.md's)."""

    site = models.OneToOneField(Site, on_delete=models.PROTECT, related_name="record_settings")
    note_formats = models.CharField(
        max_length=20, default=NOTE_FORMATS_DEFAULT, validators=[validate_note_formats]
    )
    note_due_business_days = models.PositiveSmallIntegerField(
        default=3, help_text="A note is due this many business days after the service."
    )
    initial_plan_days = models.PositiveSmallIntegerField(
        default=7, help_text="The first plan is due this many days after admission."
    )
    review_days_op = models.PositiveSmallIntegerField(default=30)
    review_days_iop = models.PositiveSmallIntegerField(default=30)
    review_days_php = models.PositiveSmallIntegerField(default=14)
    level_change_review_days = models.PositiveSmallIntegerField(
        default=7, help_text="A change of level of care brings the review due within these days."
    )
    cosign_days = models.PositiveSmallIntegerField(
        default=10, help_text="Days a countersignature may take after the author signs (FL: 10)."
    )

    class Meta:
        verbose_name_plural = "record settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(note_due_business_days__gte=1, note_due_business_days__lte=30),
                name="records_note_due_days_range",
            ),
            models.CheckConstraint(
                condition=Q(initial_plan_days__gte=1, initial_plan_days__lte=90),
                name="records_initial_plan_days_range",
            ),
            models.CheckConstraint(
                condition=Q(
                    review_days_op__gte=1,
                    review_days_op__lte=365,
                    review_days_iop__gte=1,
                    review_days_iop__lte=365,
                    review_days_php__gte=1,
                    review_days_php__lte=365,
                ),
                name="records_review_days_range",
            ),
            models.CheckConstraint(
                condition=Q(level_change_review_days__gte=0, level_change_review_days__lte=90),
                name="records_level_change_days_range",
            ),
            models.CheckConstraint(
                condition=Q(cosign_days__gte=1, cosign_days__lte=90),
                name="records_cosign_days_range",
            ),
        ]

    def __str__(self) -> str:
        return f"Record rules for {self.site}"

    @classmethod
    def for_site(cls, site: Site) -> RecordSettings:
        """The site's rules, or the defaults (unsaved) when the director set none."""
        found = cls.objects.filter(site=site).first()
        return found or cls(site=site)

    def review_days(self, level: str) -> int:
        return {
            ProgramLevel.OP: self.review_days_op,
            ProgramLevel.IOP: self.review_days_iop,
            ProgramLevel.PHP: self.review_days_php,
        }[ProgramLevel(level)]

    @property
    def allowed_formats(self) -> list[str]:
        return [c.strip().upper() for c in self.note_formats.split(",") if c.strip()]


class TreatmentPlan(models.Model):
    """The plan of one episode of care; its content lives in ``PlanVersion`` rows."""

    enrollment = models.OneToOneField(
        Enrollment, on_delete=models.PROTECT, related_name="treatment_plan"
    )
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="treatment_plans")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Treatment plan {self.pk} ({self.patient_id})"


class PlanVersion(models.Model):
    """One version of a plan: the initial plan, then one per review. A signed version is
    never changed; a review copies it into a new draft."""

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=15, choices=PlanVersionKind.choices)
    level = models.CharField(max_length=3, choices=ProgramLevel.choices)
    strengths = models.TextField(blank=True, max_length=limits.NOTE)
    preferences = models.TextField(blank=True, max_length=limits.NOTE)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=RecordStatus.choices, default=RecordStatus.DRAFT
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    # The author's credentials and supervision need when they signed (profiles change).
    author_credentials = models.CharField(max_length=60, blank=True)
    requires_cosign = models.BooleanField(default=False)
    content_hash = models.CharField(max_length=64, blank=True)
    # Set after signing (the trigger allows exactly these to change).
    cosigned_at = models.DateTimeField(null=True, blank=True)
    cosigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    patient_signed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["plan", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="records_plan_version_number"),
            models.UniqueConstraint(
                fields=["plan"], condition=Q(status="draft"), name="records_one_draft_per_plan"
            ),
            models.CheckConstraint(
                condition=Q(status="draft", signed_at__isnull=True)
                | (~Q(status="draft") & Q(signed_at__isnull=False) & ~Q(content_hash="")),
                name="records_plan_signed_iff_hashed",
            ),
            models.CheckConstraint(
                condition=Q(status="cosigned", cosigned_at__isnull=False)
                | (~Q(status="cosigned") & Q(cosigned_at__isnull=True)),
                name="records_plan_cosigned_iff_status",
            ),
            models.CheckConstraint(
                condition=Q(cosigned_by__isnull=True) | ~Q(cosigned_by=models.F("author")),
                name="records_plan_no_self_cosign",
            ),
            limits.length_constraint("strengths", limits.NOTE),
            limits.length_constraint("preferences", limits.NOTE),
        ]
        indexes = [
            models.Index(fields=["status", "requires_cosign"], name="records_plan_cosign_queue"),
            models.Index(fields=["author", "status"], name="records_plan_author_status"),
        ]

    def __str__(self) -> str:
        return f"Plan {self.plan_id} v{self.number}"

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None

    @property
    def awaiting_cosign(self) -> bool:
        return self.requires_cosign and self.status == RecordStatus.SIGNED


class PlanPart(models.Model):
    """A row of a version's content. ``version`` is on every part so the trigger can see
    in one lookup whether the version it belongs to is signed."""

    version = models.ForeignKey(PlanVersion, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        abstract = True


class PlanProblem(PlanPart):
    dimension = models.PositiveSmallIntegerField(choices=AsamDimension.choices)
    description = models.TextField(max_length=limits.REASON)

    class Meta:
        ordering = ["version", "position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(dimension__gte=1, dimension__lte=6), name="records_problem_dimension"
            ),
            limits.length_constraint("description", limits.REASON),
        ]

    def __str__(self) -> str:
        return self.description[:60]


class PlanGoal(PlanPart):
    problem = models.ForeignKey(PlanProblem, on_delete=models.PROTECT, related_name="goals")
    # In the patient's own words.
    text = models.TextField(max_length=limits.REASON)

    class Meta:
        ordering = ["problem", "position", "pk"]
        constraints = [limits.length_constraint("text", limits.REASON)]

    def __str__(self) -> str:
        return self.text[:60]


class PlanObjective(PlanPart):
    goal = models.ForeignKey(PlanGoal, on_delete=models.PROTECT, related_name="objectives")
    text = models.TextField(max_length=limits.REASON)
    target_date = models.DateField()
    status = models.CharField(
        max_length=12, choices=ObjectiveStatus.choices, default=ObjectiveStatus.ACTIVE
    )

    class Meta:
        ordering = ["goal", "position", "pk"]
        constraints = [limits.length_constraint("text", limits.REASON)]

    def __str__(self) -> str:
        return self.text[:60]


class PlanIntervention(PlanPart):
    objective = models.ForeignKey(
        PlanObjective, on_delete=models.PROTECT, related_name="interventions"
    )
    service_type = models.CharField(max_length=30, choices=ServiceType.choices)
    frequency = models.CharField(max_length=80, help_text="e.g. 3 groups a week")
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["objective", "position", "pk"]

    def __str__(self) -> str:
        return f"{self.get_service_type_display()}, {self.frequency}"


class GroupNote(models.Model):
    """The shared part of a group session's note, written once by the facilitator, and
    the per-attendee parts (``GroupNoteEntry``) while it is a draft. Signing it writes one
    locked ``ProgressNote`` into each present attendee's chart."""

    session = models.OneToOneField(Session, on_delete=models.PROTECT, related_name="clinical_note")
    # Empty only on a draft carried over from a session's old free-text note whose session
    # had no facilitator: nobody is credited with text nobody is known to have written.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    topic = models.CharField(max_length=120, blank=True)
    service_type = models.CharField(
        max_length=30, choices=ServiceType.choices, default=ServiceType.GROUP_COUNSELING
    )
    shared_text = models.TextField(blank=True, max_length=limits.NOTE)
    status = models.CharField(
        max_length=10, choices=RecordStatus.choices, default=RecordStatus.DRAFT
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    signed_at = models.DateTimeField(null=True, blank=True)
    content_hash = models.CharField(max_length=64, blank=True)
    # The session's old free-text ``group_note``, carried over by migration 0003.
    migrated = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(status="draft", signed_at__isnull=True)
                | (~Q(status="draft") & Q(signed_at__isnull=False)),
                name="records_group_signed_iff_time",
            ),
            models.CheckConstraint(
                condition=Q(author__isnull=False) | Q(migrated=True, status="draft"),
                name="records_group_author_unless_migrated_draft",
            ),
            limits.length_constraint("shared_text", limits.NOTE),
        ]
        indexes = [
            # The co-signature queue's group notes, in signing order (see ProgressNote).
            models.Index(
                fields=["signed_at", "id"],
                condition=Q(status="signed"),
                name="records_group_signed",
            ),
        ]

    def __str__(self) -> str:
        return f"Group note for session {self.session_id}"

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None


class GroupNoteEntry(models.Model):
    """One attendee's individualized part of a draft group note."""

    group_note = models.ForeignKey(GroupNote, on_delete=models.PROTECT, related_name="entries")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(blank=True, max_length=limits.NOTE)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["group_note", "patient"], name="records_entry_once"),
            limits.length_constraint("text", limits.NOTE),
        ]

    def __str__(self) -> str:
        return f"{self.group_note_id}/{self.patient_id}"


class ProgressNote(models.Model):
    """A note in one patient's chart: individual, family, MAT visit, or their copy of a
    signed group note (with their own attendance status and minutes)."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="progress_notes")
    enrollment = models.ForeignKey(
        Enrollment, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12, choices=NoteKind.choices)
    format = models.CharField(max_length=4, choices=NoteFormat.choices, blank=True)
    service_type = models.CharField(max_length=30, choices=ServiceType.choices)
    session = models.ForeignKey(
        Session, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    group_note = models.ForeignKey(
        GroupNote, null=True, blank=True, on_delete=models.PROTECT, related_name="attendee_notes"
    )
    attendance = models.OneToOneField(
        Attendance, null=True, blank=True, on_delete=models.PROTECT, related_name="clinical_note"
    )
    # The attendee's status and minutes as they stood when the group note was signed.
    attendance_status = models.CharField(max_length=12, blank=True)
    minutes = models.PositiveIntegerField(null=True, blank=True)
    service_date = models.DateField(help_text="Site-local date of the service.")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    # Sections (which ones a note shows depends on its format: FORMAT_SECTIONS).
    data = models.TextField(blank=True, max_length=limits.NOTE)
    behavior = models.TextField(blank=True, max_length=limits.NOTE)
    subjective = models.TextField(blank=True, max_length=limits.NOTE)
    objective = models.TextField(blank=True, max_length=limits.NOTE)
    intervention = models.TextField(blank=True, max_length=limits.NOTE)
    assessment = models.TextField(blank=True, max_length=limits.NOTE)
    response = models.TextField(blank=True, max_length=limits.NOTE)
    plan = models.TextField(blank=True, max_length=limits.NOTE)
    # A group note's shared part, copied into each attendee's note when it was signed.
    shared_text = models.TextField(blank=True, max_length=limits.NOTE)
    topic = models.CharField(max_length=120, blank=True)
    # "The golden thread": the plan objectives this service addressed.
    objectives: models.ManyToManyField[PlanObjective, NoteObjective] = models.ManyToManyField(
        PlanObjective, through="NoteObjective", related_name="notes", blank=True
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    author_credentials = models.CharField(max_length=60, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    # The last site-local day the note may be signed without being a late entry.
    due_on = models.DateField()
    status = models.CharField(
        max_length=10, choices=RecordStatus.choices, default=RecordStatus.DRAFT
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    is_late = models.BooleanField(default=False)
    requires_cosign = models.BooleanField(default=False)
    content_hash = models.CharField(max_length=64, blank=True)
    cosigned_at = models.DateTimeField(null=True, blank=True)
    cosigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-service_date", "-starts_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="records_note_end_after_start",
            ),
            models.CheckConstraint(
                condition=Q(status="draft", signed_at__isnull=True)
                | (~Q(status="draft") & Q(signed_at__isnull=False) & ~Q(content_hash="")),
                name="records_note_signed_iff_hashed",
            ),
            models.CheckConstraint(
                condition=Q(status="cosigned", cosigned_at__isnull=False)
                | (~Q(status="cosigned") & Q(cosigned_at__isnull=True)),
                name="records_note_cosigned_iff_status",
            ),
            models.CheckConstraint(
                condition=Q(cosigned_by__isnull=True) | ~Q(cosigned_by=models.F("author")),
                name="records_note_no_self_cosign",
            ),
            models.CheckConstraint(
                condition=Q(kind="group", group_note__isnull=False)
                | (~Q(kind="group") & Q(group_note__isnull=True)),
                name="records_group_kind_iff_group_note",
            ),
            *(limits.length_constraint(f, limits.NOTE) for f in (*SECTION_FIELDS, "shared_text")),
        ]
        indexes = [
            models.Index(fields=["patient", "service_date"], name="records_note_patient_day"),
            models.Index(fields=["author", "status"], name="records_note_author_status"),
            models.Index(fields=["status", "requires_cosign"], name="records_note_cosign_queue"),
            models.Index(fields=["status", "due_on"], name="records_note_status_due"),
            # The co-signature queue: the individual notes waiting, in signing order, and
            # each group note's attendee copies waiting. The planner misjudged the waiting
            # rows on the (status, requires_cosign) index (14,000 expected, 2,800 found at
            # 5,000 patients) and read the whole table; these stay small, because
            # co-signing takes a row out of them.
            models.Index(
                fields=["signed_at", "id"],
                condition=Q(status="signed", requires_cosign=True, group_note__isnull=True),
                name="records_note_cosign_waiting",
            ),
            models.Index(
                fields=["group_note"],
                condition=Q(status="signed", requires_cosign=True),
                name="records_note_copy_waiting",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} note {self.service_date} ({self.patient_id})"

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None

    @property
    def awaiting_cosign(self) -> bool:
        return self.requires_cosign and self.status == RecordStatus.SIGNED

    @property
    def attendance_status_label(self) -> str:
        """The attendee's status as the attendance sheet words it ("Late", not "late")."""
        if not self.attendance_status:
            return ""
        return str(AttendanceStatus(self.attendance_status).label)

    @property
    def sections(self) -> list[tuple[str, str]]:
        """(label, text) of the sections this note's format shows."""
        if self.kind == NoteKind.GROUP:
            return [("Group", self.shared_text), ("Individual", self.response)]
        names = FORMAT_SECTIONS.get(self.format, SECTION_FIELDS)
        return [(SECTION_LABELS[n], getattr(self, n)) for n in names]

    def due_date(self) -> date:
        return self.due_on


class NoteObjective(models.Model):
    note = models.ForeignKey(ProgressNote, on_delete=models.PROTECT, related_name="+")
    objective = models.ForeignKey(PlanObjective, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["note", "objective"], name="records_note_objective_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.note_id} -> {self.objective_id}"


class AddendumKind(models.TextChoices):
    ADDENDUM = "addendum", _("Addendum")
    LATE_ENTRY = "late_entry", _("Late entry")


class Addendum(models.Model):
    """A correction or addition to signed content, shown beside the untouched original.
    Append-only: a wrong addendum is answered by another addendum."""

    note = models.ForeignKey(
        ProgressNote, null=True, blank=True, on_delete=models.PROTECT, related_name="addenda"
    )
    plan_version = models.ForeignKey(
        PlanVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="addenda"
    )
    kind = models.CharField(
        max_length=12, choices=AddendumKind.choices, default=AddendumKind.ADDENDUM
    )
    text = models.TextField(max_length=limits.NOTE)
    reason = models.TextField(blank=True, max_length=limits.REASON)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    author_credentials = models.CharField(max_length=60, blank=True)
    written_at = models.DateTimeField()
    content_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["written_at", "pk"]
        verbose_name_plural = "addenda"
        constraints = [
            models.CheckConstraint(
                condition=Q(note__isnull=False, plan_version__isnull=True)
                | Q(note__isnull=True, plan_version__isnull=False),
                name="records_addendum_one_target",
            ),
            limits.length_constraint("text", limits.NOTE),
            limits.length_constraint("reason", limits.REASON),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.pk}"


class SignerRole(models.TextChoices):
    AUTHOR = "author", _("Author")
    COSIGNER = "cosigner", _("Co-signer")
    PATIENT = "patient", _("Patient")


class SignatureMethod(models.TextChoices):
    # A clinician signing in their own logged-in session (with its second factor).
    SESSION = "session", _("Signed in the clinician's session")
    # The patient, at the clinic, on the staff screen.
    PASSWORD = "password", _("Patient's portal password, at the clinic")
    ONE_TIME_CODE = "one_time_code", _("One-time code sent to the patient, at the clinic")
    PORTAL = "portal", _("Patient, in the portal")


class Signature(models.Model):
    """Who signed what, when, how: append-only, with the SHA-256 of the signed content."""

    plan_version = models.ForeignKey(
        PlanVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="signatures"
    )
    note = models.ForeignKey(
        ProgressNote, null=True, blank=True, on_delete=models.PROTECT, related_name="signatures"
    )
    role = models.CharField(max_length=10, choices=SignerRole.choices)
    method = models.CharField(max_length=15, choices=SignatureMethod.choices)
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # As it read at signing: a name and credentials change, a signature does not.
    signer_name = models.CharField(max_length=150)
    signer_credentials = models.CharField(max_length=60, blank=True)
    signed_at = models.DateTimeField()
    content_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["signed_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(plan_version__isnull=False, note__isnull=True)
                | Q(plan_version__isnull=True, note__isnull=False),
                name="records_signature_one_target",
            ),
            models.CheckConstraint(
                condition=Q(role="patient", patient__isnull=False)
                | (~Q(role="patient") & Q(signer__isnull=False)),
                name="records_signature_has_signer",
            ),
            models.UniqueConstraint(
                fields=["plan_version", "role"],
                condition=Q(plan_version__isnull=False),
                name="records_one_signature_per_role_plan",
            ),
            models.UniqueConstraint(
                fields=["note", "role"],
                condition=Q(note__isnull=False),
                name="records_one_signature_per_role_note",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} {self.signer_name} at {self.signed_at:%Y-%m-%d %H:%M}"


class SigningCode(models.Model):
    """A one-time code for a patient signing a plan at the clinic: sent to the patient's
    phone, typed by the patient on the staff screen. Only a keyed hash is kept."""

    plan_version = models.ForeignKey(PlanVersion, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    code_hash = models.CharField(max_length=64)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-issued_at"]

    def __str__(self) -> str:
        return f"Signing code for {self.plan_version_id}"
