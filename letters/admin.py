from django.contrib import admin

from core.admin import ReadOnlyAdmin

from .models import Letter, LetterBatch


@admin.register(Letter)
class LetterAdmin(ReadOnlyAdmin):
    """Sent letters: seen, never changed or deleted (the PDF is served from the staff
    screens, its hash checked)."""

    list_display = ["created_at", "patient", "recipient", "period_start", "period_end"]
    fields = readonly_fields = (
        "patient",
        "consent",
        "disclosure",
        "site",
        "batch",
        "recipient",
        "sections",
        "period_start",
        "period_end",
        "sha256",
        "size",
        "created_by",
        "created_at",
    )


@admin.register(LetterBatch)
class LetterBatchAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "recipient", "counselor", "created_by"]
    fields = readonly_fields = (
        "counselor",
        "recipient",
        "sections",
        "period_start",
        "period_end",
        "skipped",
        "created_by",
        "created_at",
    )
    patient_lookup = "letters__patient_id"
