from django.contrib import admin
from django.http import HttpRequest

from core.admin import NoDeleteAdmin

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
class MeetingRequirementAdmin(NoDeleteAdmin):
    list_display = ["site", "phase", "meetings_per_week", "fellowships"]
    list_filter = ["site"]


@admin.register(Meeting)
class MeetingAdmin(NoDeleteAdmin):
    list_display = ["patient", "held_at", "fellowship", "status"]
    list_filter = ["status", "fellowship", "site"]
    raw_id_fields = ["patient", "sheet", "logged_by", "reviewed_by"]


@admin.register(HomeworkTemplate)
class HomeworkTemplateAdmin(NoDeleteAdmin):
    list_display = ["title", "site", "is_active"]
    list_filter = ["site", "is_active"]
    raw_id_fields = ["worksheet", "created_by"]


@admin.register(HomeworkAssignment)
class HomeworkAssignmentAdmin(NoDeleteAdmin):
    list_display = ["title", "patient", "due_date", "status"]
    list_filter = ["status", "site"]
    raw_id_fields = ["patient", "template", "assigned_by"]


@admin.register(HomeworkSubmission)
class HomeworkSubmissionAdmin(NoDeleteAdmin):
    list_display = ["assignment", "round", "submitted_at", "outcome"]
    raw_id_fields = ["assignment", "files", "submitted_by", "reviewed_by"]


@admin.register(Sponsor)
class SponsorAdmin(NoDeleteAdmin):
    list_display = ["patient", "name", "since", "ended_on"]
    raw_id_fields = ["patient", "recorded_by"]


@admin.register(StepProgress)
class StepProgressAdmin(NoDeleteAdmin):
    list_display = ["patient", "step", "started_on"]
    raw_id_fields = ["patient", "recorded_by"]


@admin.register(Attachment)
class AttachmentAdmin(NoDeleteAdmin):
    # Metadata only: the file itself is served through the access-checking view.
    list_display = ["original_name", "content_type", "size", "site", "patient", "uploaded_at"]
    exclude = ["file"]
    readonly_fields = ["original_name", "content_type", "size", "sha256", "uploaded_at"]
    raw_id_fields = ["patient", "uploaded_by"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
