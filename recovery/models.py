"""12-step and mutual-help meetings, sponsors and step work, and homework.

Nothing here is deleted: a rejected meeting stays (with its reason), a returned
homework round stays beside the resubmission, an ended sponsorship keeps its dates.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core import limits
from core.models import Site
from core.phones import PhoneField
from patients.models import Patient, ProgramPhase

from .storage import private_storage, random_upload_name

if TYPE_CHECKING:
    from django import forms


class Fellowship(models.TextChoices):
    AA = "aa", "Alcoholics Anonymous (AA)"
    NA = "na", "Narcotics Anonymous (NA)"
    CA = "ca", "Cocaine Anonymous (CA)"
    CELEBRATE = "celebrate", "Celebrate Recovery"
    SMART = "smart", "SMART Recovery"
    OTHER = "other", _("Other")


class MeetingRequirement(models.Model):
    """How many meetings a week a site asks of patients in a phase.

    A row with no phase is the site's default for patients whose phase has no row.
    ``fellowships`` lists the codes that count; empty means every fellowship counts.
    """

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    phase = models.ForeignKey(
        ProgramPhase, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    meetings_per_week = models.PositiveSmallIntegerField()
    fellowships = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["site", "phase__number"]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "phase"],
                condition=Q(phase__isnull=False),
                name="meeting_requirement_one_per_phase",
            ),
            models.UniqueConstraint(
                fields=["site"],
                condition=Q(phase__isnull=True),
                name="meeting_requirement_one_default_per_site",
            ),
            models.CheckConstraint(
                condition=Q(meetings_per_week__lte=21), name="meeting_requirement_at_most_21"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.meetings_per_week}/week ({self.phase or 'default'})"

    def counts(self, fellowship: str) -> bool:
        return not self.fellowships or fellowship in self.fellowships

    @property
    def fellowship_labels(self) -> list[str]:
        if not self.fellowships:
            return [gettext("any fellowship")]
        return [
            str(Fellowship(code).label) for code in self.fellowships if code in Fellowship.values
        ]


class Attachment(models.Model):
    """An uploaded file (meeting sheet, homework, worksheet), stored under the private
    media root with a random name and served only through an access-checking view."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    # Null only for a site's worksheet attached to a homework template.
    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    file = models.FileField(storage=private_storage, upload_to=random_upload_name, max_length=200)
    original_name = models.CharField(max_length=120)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["uploaded_at", "pk"]

    def __str__(self) -> str:
        return self.original_name

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class MeetingStatus(models.TextChoices):
    PENDING = "pending", "Waiting for verification"
    VERIFIED = "verified", "Verified"
    REJECTED = "rejected", "Not accepted"


class AttendanceMode(models.TextChoices):
    IN_PERSON = "in_person", _("In person")
    ONLINE = "online", _("Online")


class Meeting(models.Model):
    """One meeting a patient says they attended. Only verified meetings count."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="meetings")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    held_at = models.DateTimeField()
    fellowship = models.CharField(max_length=12, choices=Fellowship.choices)
    fellowship_other = models.CharField(max_length=80, blank=True)
    name = models.CharField("meeting name", max_length=120)
    mode = models.CharField(max_length=10, choices=AttendanceMode.choices)
    place = models.CharField(max_length=200, blank=True)
    chair_name = models.CharField("chair or secretary", max_length=120, blank=True)
    notes = models.TextField(blank=True, max_length=limits.NOTE)
    sheet = models.ForeignKey(
        Attachment, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=MeetingStatus.choices, default=MeetingStatus.PENDING
    )
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    logged_at = models.DateTimeField()
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-held_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="pending", reviewed_at__isnull=True)
                | (~Q(status="pending") & Q(reviewed_at__isnull=False, reviewed_by__isnull=False)),
                name="meeting_reviewed_iff_not_pending",
            ),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(rejection_reason=""),
                name="meeting_rejection_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(mode="in_person") | ~Q(place=""),
                name="meeting_in_person_has_place",
            ),
            models.CheckConstraint(
                condition=Q(held_at__lte=models.F("logged_at")),
                name="meeting_not_logged_before_it_was_held",
            ),
            # A double-tapped "Log meeting" must not count one meeting twice; a rejected
            # one may be logged again (e.g. with the signed sheet this time).
            models.UniqueConstraint(
                fields=["patient", "held_at"],
                condition=~Q(status="rejected"),
                name="meeting_once_per_patient_and_time",
            ),
            limits.length_constraint("notes", limits.NOTE),
        ]
        indexes = [
            models.Index(fields=["patient", "held_at"], name="meeting_patient_held"),
            models.Index(fields=["status", "held_at"], name="meeting_status_held"),
            # The review queue counts pending meetings of the patients a user may see;
            # this keeps that proportional to what is pending, not to all history.
            models.Index(
                fields=["patient"], condition=Q(status="pending"), name="meeting_pending_patient"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_fellowship_display()} {self.name} {self.held_at:%Y-%m-%d}"

    @property
    def fellowship_label(self) -> str:
        if self.fellowship == Fellowship.OTHER and self.fellowship_other:
            return self.fellowship_other
        return self.get_fellowship_display()


class Sponsor(models.Model):
    """A patient's sponsor. A new sponsor ends the previous row; none is deleted."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="sponsors")
    name = models.CharField(max_length=120)
    phone = PhoneField()
    # A number on file before numbers were checked that could not be read as one
    # (migration 0003_phone_e164); shown flagged until a sponsor is recorded again.
    phone_legacy = models.CharField(max_length=40, blank=True, editable=False)
    since = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-since", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(ended_on__isnull=True),
                name="one_current_sponsor_per_patient",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("since")),
                name="sponsor_end_not_before_start",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class StepProgress(models.Model):
    """Append-only: the step a patient is working, from a date. The latest row is current."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="step_progress")
    step = models.PositiveSmallIntegerField()
    started_on = models.DateField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-started_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(step__gte=1) & Q(step__lte=12), name="step_between_1_and_12"
            ),
        ]

    def __str__(self) -> str:
        return f"Step {self.step} from {self.started_on}"


class HomeworkTemplate(models.Model):
    """A site's library entry, e.g. Step 1 worksheet or relapse prevention plan."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=120)
    instructions = models.TextField(max_length=limits.INSTRUCTIONS)
    worksheet = models.ForeignKey(
        Attachment, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["title"]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "title"], name="homework_title_unique_per_site"
            ),
            limits.length_constraint("instructions", limits.INSTRUCTIONS),
        ]

    def __str__(self) -> str:
        return self.title


class HomeworkStatus(models.TextChoices):
    ASSIGNED = "assigned", "Assigned"
    SUBMITTED = "submitted", "Submitted"
    RETURNED = "returned", "Returned for changes"
    ACCEPTED = "accepted", "Accepted"
    # Never stored: derived from the due date in the site's time zone.
    OVERDUE = "overdue", "Overdue"


STORED_HOMEWORK_STATUSES = [
    (s.value, s.label) for s in HomeworkStatus if s != HomeworkStatus.OVERDUE
]
OPEN_HOMEWORK_STATUSES = (HomeworkStatus.ASSIGNED, HomeworkStatus.RETURNED)


class HomeworkAssignment(models.Model):
    """Homework for one patient. Title and instructions are copied from the template
    so a later edit of the library does not change work already handed out."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="homework")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    template = models.ForeignKey(HomeworkTemplate, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=120)
    instructions = models.TextField(max_length=limits.INSTRUCTIONS)
    due_date = models.DateField(help_text="Site-local date; overdue from the next day.")
    # Set when assigned to a group: which roster it came from (for the record).
    group_label = models.CharField(max_length=120, blank=True)
    status = models.CharField(
        max_length=10, choices=STORED_HOMEWORK_STATUSES, default=HomeworkStatus.ASSIGNED
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    assigned_at = models.DateTimeField()
    # Not stored: the pages that list homework set it to status_on(the site's today).
    display_status: str
    # Not stored either: set by the pages that list homework for their templates (the
    # staff page: the round awaiting review; the portal: whether it can be handed in,
    # and its form).
    awaiting: HomeworkSubmission | None
    can_submit: bool
    form: forms.BaseForm | None

    class Meta:
        ordering = ["due_date", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "template", "due_date"],
                name="homework_once_per_template_and_due_date",
            ),
            limits.length_constraint("instructions", limits.INSTRUCTIONS),
        ]
        indexes = [models.Index(fields=["patient", "status"], name="homework_patient_status")]

    def __str__(self) -> str:
        return f"{self.title} due {self.due_date}"

    def status_on(self, today: date) -> str:
        if self.status in OPEN_HOMEWORK_STATUSES and today > self.due_date:
            return HomeworkStatus.OVERDUE
        return self.status

    def status_label_on(self, today: date) -> str:
        return HomeworkStatus(self.status_on(today)).label


class ReviewOutcome(models.TextChoices):
    ACCEPTED = "accepted", "Accepted"
    RETURNED = "returned", "Returned for changes"


class HomeworkSubmission(models.Model):
    """One round: what the patient handed in and, once reviewed, the counselor's answer."""

    assignment = models.ForeignKey(
        HomeworkAssignment, on_delete=models.PROTECT, related_name="submissions"
    )
    round = models.PositiveSmallIntegerField()
    text = models.TextField(blank=True, max_length=limits.HOMEWORK_ANSWER)
    files = models.ManyToManyField(Attachment, blank=True, related_name="+")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField()
    outcome = models.CharField(max_length=10, choices=ReviewOutcome.choices, blank=True)
    comment = models.TextField(blank=True, max_length=limits.NOTE)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["assignment", "round"]
        constraints = [
            models.UniqueConstraint(fields=["assignment", "round"], name="homework_round_unique"),
            models.UniqueConstraint(
                fields=["assignment"],
                condition=Q(reviewed_at__isnull=True),
                name="homework_one_round_awaiting_review",
            ),
            models.CheckConstraint(
                condition=Q(outcome="", reviewed_at__isnull=True)
                | (~Q(outcome="") & Q(reviewed_at__isnull=False, reviewed_by__isnull=False)),
                name="homework_reviewed_iff_outcome",
            ),
            models.CheckConstraint(
                condition=~Q(outcome="returned") | ~Q(comment=""),
                name="homework_return_has_comment",
            ),
            limits.length_constraint("text", limits.HOMEWORK_ANSWER),
            limits.length_constraint("comment", limits.NOTE),
        ]

    def __str__(self) -> str:
        return f"Round {self.round} of {self.assignment_id}"
