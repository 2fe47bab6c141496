"""Record rules are reference data (editable, audited). Plans and notes are the clinical
record: read-only here (and, once signed, refused by the database too), written only
through the staff and portal screens. Signatures and addenda show inline with what they
sign or amend; a group note's content lives on in each attendee's note, which is where
the admin shows it (one patient per row, so each look is audited against that patient)."""

from django.contrib import admin

from core.admin import AuditedModelAdmin, ReadOnlyAdmin, ReadOnlyInline

from .models import Addendum, PlanVersion, ProgressNote, RecordSettings, Signature, TreatmentPlan


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


class SignatureInline(ReadOnlyInline):
    model = Signature
    fields = readonly_fields = (
        "role",
        "signer_name",
        "signer_credentials",
        "method",
        "signed_at",
        "content_hash",
    )


class AddendumInline(ReadOnlyInline):
    model = Addendum
    fields = readonly_fields = ("kind", "text", "reason", "author", "written_at")


@admin.register(TreatmentPlan)
class TreatmentPlanAdmin(ReadOnlyAdmin):
    list_display = ["patient", "enrollment", "created_at"]


@admin.register(PlanVersion)
class PlanVersionAdmin(ReadOnlyAdmin):
    list_display = ["plan", "number", "kind", "status", "author", "signed_at"]
    list_filter = ["status", "kind"]
    patient_lookup = "plan__patient_id"
    inlines = [SignatureInline, AddendumInline]


@admin.register(ProgressNote)
class ProgressNoteAdmin(ReadOnlyAdmin):
    list_display = ["patient", "kind", "service_date", "author", "status", "is_late"]
    list_filter = ["status", "kind", "is_late"]
    inlines = [SignatureInline, AddendumInline]
