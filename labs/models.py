"""Lab results in: reference laboratories' HL7 v2.5.1 ORU^R01 messages (CLINICAL.md, "Lab
results and data exchange").

A ``LabInterface`` is one laboratory sending to one organisation (its token, kept only as
a hash). Every message received is an ``InboundMessage``, its bytes kept exactly as they
came, whatever became of it: applied, waiting for review, answered with an error or
rejected. Its results (``InboundObservation``, one per OBX) reach the specimen's record
only through drugtests' result service, so an imported result is interpreted and alerts
as a typed one does. ``AnalyteCode`` is the mapping table (LOINC or a laboratory's own
code -> analyte and stage), seeded by migration 0002 and extended by the director.

Nothing here is deleted: a message nobody can apply is closed with a reason and kept.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from core import limits
from core.models import Organization
from drugtests.models import Analyte, AnalyteResult, Specimen


class LabInterface(models.Model):
    """A reference laboratory that sends one organisation its results."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=120)
    sending_facility = models.CharField(
        max_length=120,
        blank=True,
        help_text=(
            "The laboratory's name or CLIA number as its messages carry it (MSH-4). A "
            "message from another facility is rejected. Empty: not checked."
        ),
    )
    # SHA-256 of the bearer token, hex: the token itself is shown once and never stored.
    token_hash = models.CharField(max_length=64, blank=True, editable=False)
    token_issued_at = models.DateTimeField(null=True, blank=True, editable=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="lab_name_per_org"),
        ]

    def __str__(self) -> str:
        return self.name


class CodeKind(models.TextChoices):
    SCREEN = "screen", "Analyte: screen"
    CONFIRMATION = "confirmation", "Analyte: confirmation"
    VALIDITY = "validity", "Specimen validity finding"
    INFORMATION = "information", "Kept for information (validity measures, comments)"


ANALYTE_KINDS = (CodeKind.SCREEN, CodeKind.CONFIRMATION)


class AnalyteCode(models.Model):
    """One observation code (LOINC, or a laboratory's own) and what it reports.

    The standard rows (no organisation) come with the application, from migrations: the
    common LOINC codes, the same for everyone; ``preferred`` marks the one the FHIR export
    writes for an analyte and stage (``drugtests.loinc.code_for``). A director adds rows
    for their own organisation: a laboratory's local code, an analyte the standard rows
    leave out, or the same code as a standard row to read it differently there (or, set
    inactive, not at all). No organisation's row changes what another's results mean."""

    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    code = models.CharField(max_length=40)
    display = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=12, choices=CodeKind.choices)
    analyte = models.CharField(max_length=20, choices=Analyte.choices, blank=True)
    default_cutoff = models.DecimalField(
        "default cut-off (ng/mL)",
        max_digits=9,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Used when a concentration comes without a reference range.",
    )
    preferred = models.BooleanField(
        default=False, help_text="The code written for this analyte and stage in exports."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["analyte", "kind", "code", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind__in=["screen", "confirmation"]) & ~Q(analyte=""))
                | (Q(kind__in=["validity", "information"]) & Q(analyte="")),
                name="analyte_code_names_analyte_iff_analyte_kind",
            ),
            models.UniqueConstraint(
                fields=["organization", "code"], name="analyte_code_once_per_org"
            ),
            models.UniqueConstraint(
                fields=["code"],
                condition=Q(organization__isnull=True),
                name="standard_analyte_code_once",
            ),
            models.UniqueConstraint(
                fields=["analyte", "kind"],
                condition=Q(preferred=True, is_active=True),
                name="one_preferred_code_per_analyte_stage",
            ),
            models.CheckConstraint(
                condition=Q(preferred=False) | Q(organization__isnull=True),
                name="only_standard_codes_are_preferred",
            ),
            models.CheckConstraint(
                condition=Q(default_cutoff__isnull=True) | Q(default_cutoff__gte=0),
                name="analyte_code_cutoff_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.display}".strip()

    @property
    def is_analyte(self) -> bool:
        return self.kind in ANALYTE_KINDS

    @property
    def is_standard(self) -> bool:
        return self.organization_id is None


class AckCode(models.TextChoices):
    ACCEPTED = "AA", "AA: accepted"
    ERROR = "AE", "AE: error"
    REJECTED = "AR", "AR: rejected"


class Channel(models.TextChoices):
    HTTP = "http", "HTTP endpoint"
    FILE = "file", "File (import_hl7)"


class InboundMessage(models.Model):
    """One message as received, and what became of it."""

    class Status(models.TextChoices):
        APPLIED = "applied", "Applied"
        HELD = "held", "Waiting for review"
        ERROR = "error", "Error: the laboratory must resend"
        REJECTED = "rejected", "Rejected"
        CLOSED = "closed", "Closed without applying"

    interface = models.ForeignKey(LabInterface, on_delete=models.PROTECT, related_name="messages")
    received_at = models.DateTimeField()
    channel = models.CharField(max_length=4, choices=Channel.choices)
    # The idempotency key: the sender's control id (MSH-10), or the bytes' hash when the
    # message has none. A message sent again answers as the first time and adds nothing.
    key = models.CharField(max_length=120)
    raw = models.BinaryField(help_text="The message's bytes exactly as received.")
    # SHA-256 of its segments with line endings read as \r: the same message sent as a
    # file with \n or in an MLLP frame with \r is the same message.
    content_sha256 = models.CharField(max_length=64)
    control_id = models.CharField(max_length=80, blank=True)
    sending_facility = models.CharField(max_length=120, blank=True)
    message_type = models.CharField(max_length=30, blank=True)
    ack_code = models.CharField(max_length=2, choices=AckCode.choices)
    ack_text = models.CharField(max_length=300, blank=True)
    ack_error = models.CharField(max_length=3, blank=True, help_text="HL7 table 0357.")
    status = models.CharField(max_length=10, choices=Status.choices)
    # Why it waits (or why it was refused), in words staff read on the review queue.
    review_note = models.TextField(blank=True, max_length=limits.REASON)
    # As the message names them: the review screen shows them beside the candidates.
    specimen_id_sent = models.CharField(max_length=80, blank=True)
    # Every id the message could mean the specimen by (SPM-2, OBR-2/3, ORC-2/3).
    specimen_ids_sent = models.JSONField(default=list, blank=True)
    collected_at_sent = models.DateTimeField(null=True, blank=True)
    collected_on_sent = models.DateField(null=True, blank=True)
    patient_name_sent = models.CharField(max_length=160, blank=True)
    patient_birth_date_sent = models.DateField(null=True, blank=True)
    reported_at = models.DateTimeField(null=True, blank=True)
    validity_sent = models.CharField(max_length=12, blank=True)
    lab_note = models.TextField(blank=True, max_length=limits.NOTE)
    specimen = models.ForeignKey(
        Specimen, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    matched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    close_reason = models.TextField(blank=True, max_length=limits.REASON)

    class Meta:
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["interface", "key"], name="inbound_message_once"),
            limits.length_constraint("review_note", limits.REASON),
            limits.length_constraint("lab_note", limits.NOTE),
            limits.length_constraint("close_reason", limits.REASON),
            models.CheckConstraint(
                condition=~Q(status="closed") | (Q(closed_at__isnull=False) & ~Q(close_reason="")),
                name="closed_message_has_reason",
            ),
        ]
        indexes = [models.Index(fields=["status", "received_at"], name="inbound_status_received")]

    def __str__(self) -> str:
        return f"{self.interface} {self.control_id or self.content_sha256[:12]}"

    @property
    def raw_text(self) -> str:
        """The bytes as text for reading, one segment a line."""
        text = bytes(self.raw).decode("utf-8", errors="replace")
        return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "\ufffd")


class InboundObservation(models.Model):
    """One OBX of a message (with its NTE notes) and what became of it."""

    class State(models.TextChoices):
        APPLIED = "applied", "Applied to the specimen"
        HELD = "held", "Waiting for review"
        REPEAT = "repeat", "Already on file"
        INFORMATION = "information", "Kept for information"
        ERROR = "error", "Unreadable"
        CLOSED = "closed", "Closed without applying"

    message = models.ForeignKey(
        InboundMessage, on_delete=models.PROTECT, related_name="observations"
    )
    position = models.PositiveSmallIntegerField()
    code = models.CharField(max_length=40, blank=True)
    code_text = models.CharField(max_length=200, blank=True)
    code_system = models.CharField(max_length=20, blank=True)
    value_type = models.CharField(max_length=3, blank=True)
    value = models.CharField(max_length=200, blank=True)
    value_code = models.CharField(max_length=80, blank=True)
    units = models.CharField(max_length=20, blank=True)
    reference_range = models.CharField(max_length=60, blank=True)
    abnormal_flags = models.CharField(max_length=20, blank=True)
    result_status = models.CharField(max_length=2, blank=True)
    observed_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True, max_length=limits.NOTE)
    state = models.CharField(max_length=12, choices=State.choices)
    reason = models.CharField(max_length=300, blank=True)
    mapping = models.ForeignKey(
        AnalyteCode, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    analyte_result = models.OneToOneField(
        AnalyteResult, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["message", "position"]
        constraints = [
            models.UniqueConstraint(fields=["message", "position"], name="observation_position"),
            limits.length_constraint("note", limits.NOTE),
        ]
        indexes = [models.Index(fields=["state", "code"], name="observation_state_code")]

    def __str__(self) -> str:
        return f"{self.code} {self.value}".strip()
