"""Programs are reference data (editable, audited). Episodes and the ledger are patient
records: read-only here, written only through the ledger service (and the ledger, on
PostgreSQL, refuses UPDATE and DELETE in the database too). Each look is audited against
the patient."""

from django.contrib import admin

from core.admin import AuditedModelAdmin, ReadOnlyAdmin

from .models import CMEnrollment, LedgerEntry, Program


@admin.register(Program)
class ProgramAdmin(AuditedModelAdmin):
    list_display = ["name", "site", "target", "start_amount", "max_amount", "episode_cap"]
    list_filter = ["site", "target", "is_active"]
    patient_lookup = None


@admin.register(CMEnrollment)
class CMEnrollmentAdmin(ReadOnlyAdmin):
    list_display = ["patient", "program", "starts_on", "ends_on", "status"]
    list_filter = ["status"]
    patient_lookup = "patient_id"


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = [
        "enrollment",
        "seq",
        "kind",
        "reason",
        "step",
        "amount",
        "episode_total",
        "balance",
        "occurred_on",
    ]
    list_filter = ["kind", "reason"]
    patient_lookup = "patient_id"
