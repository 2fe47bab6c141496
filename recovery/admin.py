"""Meeting requirements and homework templates are reference data (editable, audited);
meetings, homework, sponsors, step work and uploads are the patient's record: read-only
here, changed through the staff and portal screens."""

from django.contrib import admin

from core.admin import AuditedModelAdmin, ReadOnlyAdmin

from .models import (
    Attachment,
    HomeworkAssignment,
    HomeworkSubmission,
    HomeworkTemplate,
    Meeting,
    MeetingRequirement,
    Sponsor,
    StepProgress,
)


@admin.register(MeetingRequirement)
class MeetingRequirementAdmin(AuditedModelAdmin):
    list_display = ["site", "phase", "meetings_per_week", "fellowships"]
    list_filter = ["site"]


@admin.register(Meeting)
class MeetingAdmin(ReadOnlyAdmin):
    list_display = ["patient", "held_at", "fellowship", "status"]
    list_filter = ["status", "fellowship", "site"]


@admin.register(HomeworkTemplate)
class HomeworkTemplateAdmin(AuditedModelAdmin):
    list_display = ["title", "site", "is_active"]
    list_filter = ["site", "is_active"]
    raw_id_fields = ["worksheet", "created_by"]


@admin.register(HomeworkAssignment)
class HomeworkAssignmentAdmin(ReadOnlyAdmin):
    list_display = ["title", "patient", "due_date", "status"]
    list_filter = ["status", "site"]


@admin.register(HomeworkSubmission)
class HomeworkSubmissionAdmin(ReadOnlyAdmin):
    patient_lookup = "assignment__patient_id"
    list_display = ["assignment", "round", "submitted_at", "outcome"]


@admin.register(Sponsor)
class SponsorAdmin(ReadOnlyAdmin):
    list_display = ["patient", "name", "since", "ended_on"]


@admin.register(StepProgress)
class StepProgressAdmin(ReadOnlyAdmin):
    list_display = ["patient", "step", "started_on"]


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdmin):
    # Metadata only: the file itself is served through the access-checking view.
    list_display = ["original_name", "content_type", "size", "site", "patient", "uploaded_at"]
    exclude = ["file"]
