"""Record rules are reference data (editable, audited). Plans, notes, group notes,
signatures and addenda are the clinical record: read-only here (and, once signed,
refused by the database too), written only through the staff and portal screens."""

from django.contrib import admin

from core.admin import AuditedModelAdmin, ReadOnlyAdmin

from .models import (
    Addendum,
    GroupNote,
    PlanVersion,
    ProgressNote,
    RecordSettings,
    Signature,
    TreatmentPlan,
)


@admin.register(RecordSettings)
class RecordSettingsAdmin(AuditedModelAdmin):
    list_display = [
        "site",
        "note_formats",
        "note_due_business_days",
        "initial_plan_days",
        "review_days_iop",
        "review_days_php",
    ]


@admin.register(TreatmentPlan)
class TreatmentPlanAdmin(ReadOnlyAdmin):
    list_display = ["patient", "enrollment", "created_at"]


@admin.register(PlanVersion)
class PlanVersionAdmin(ReadOnlyAdmin):
    list_display = ["plan", "number", "kind", "status", "author", "signed_at"]
    list_filter = ["status", "kind"]
    patient_lookup = "plan__patient_id"


@admin.register(ProgressNote)
class ProgressNoteAdmin(ReadOnlyAdmin):
    list_display = ["patient", "kind", "service_date", "author", "status", "is_late"]
    list_filter = ["status", "kind", "is_late"]


@admin.register(GroupNote)
class GroupNoteAdmin(ReadOnlyAdmin):
    list_display = ["session", "author", "status", "signed_at"]
    list_filter = ["status"]
    patient_lookup = None


@admin.register(Signature)
class SignatureAdmin(ReadOnlyAdmin):
    list_display = ["signer_name", "role", "method", "signed_at"]
    list_filter = ["role", "method"]


@admin.register(Addendum)
class AddendumAdmin(ReadOnlyAdmin):
    list_display = ["kind", "author", "written_at"]
    list_filter = ["kind"]
    patient_lookup = None
