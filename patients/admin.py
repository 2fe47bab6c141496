"""Admin for patients' records: read-only, every look audited (core.admin). Patients,
enrollments, medications and consents change only through the chart's forms, whose
services write the history, the roster and the audit trail; phases and tracks are
reference data, editable and audited."""

from django.contrib import admin

from core.admin import AuditedModelAdmin, ReadOnlyAdmin, ReadOnlyInline

from .models import (
    Consent,
    Enrollment,
    EnrollmentEvent,
    MedicationOrder,
    Patient,
    ProgramPhase,
    Track,
    TrackMembership,
)


class EnrollmentEventInline(ReadOnlyInline):
    model = EnrollmentEvent
    fields = readonly_fields = (
        "effective_date",
        "kind",
        "from_value",
        "to_value",
        "reason",
        "actor",
        "recorded_at",
    )


class TrackMembershipInline(ReadOnlyInline):
    model = TrackMembership
    fk_name = "enrollment"
    fields = readonly_fields = (
        "track",
        "start_date",
        "end_date",
    )


class EnrollmentInline(ReadOnlyInline):
    model = Enrollment
    fields = readonly_fields = (
        "admission_date",
        "level",
        "track",
        "phase",
        "status",
        "discharge_date",
    )
    show_change_link = True


class MedicationOrderInline(ReadOnlyInline):
    model = MedicationOrder
    fields = readonly_fields = (
        "medication",
        "dose",
        "frequency",
        "start_date",
        "stop_date",
        "next_injection_due",
    )
    show_change_link = True


class ConsentInline(ReadOnlyInline):
    model = Consent
    fields = readonly_fields = (
        "recipient",
        "purpose",
        "signed_on",
        "expires_on",
        "revoked_on",
    )
    show_change_link = True


@admin.register(ProgramPhase)
class ProgramPhaseAdmin(AuditedModelAdmin):
    list_display = ["name", "number", "site", "is_active"]
    list_filter = ["site", "is_active"]


@admin.register(Track)
class TrackAdmin(AuditedModelAdmin):
    list_display = ["name", "site", "kind", "level", "default_facilitator", "capacity", "is_active"]
    list_filter = ["site", "kind", "level", "is_active"]


@admin.register(Patient)
class PatientAdmin(ReadOnlyAdmin):
    list_display = ["mrn", "legal_last_name", "legal_first_name", "site", "primary_counselor"]
    list_filter = ["site", "is_archived"]
    search_fields = ["mrn", "legal_last_name", "legal_first_name", "preferred_name"]
    list_select_related = ["site", "primary_counselor"]
    patient_lookup = "pk"
    inlines = [EnrollmentInline, MedicationOrderInline, ConsentInline]


@admin.register(Enrollment)
class EnrollmentAdmin(ReadOnlyAdmin):
    list_display = ["patient", "site", "level", "track", "phase", "status", "admission_date"]
    list_filter = ["site", "status", "level"]
    search_fields = ["patient__mrn", "patient__legal_last_name"]
    list_select_related = ["patient", "site", "track", "phase"]
    inlines = [EnrollmentEventInline, TrackMembershipInline]


@admin.register(EnrollmentEvent)
class EnrollmentEventAdmin(ReadOnlyAdmin):
    patient_lookup = "enrollment__patient_id"
    list_display = ["enrollment", "kind", "effective_date", "actor", "recorded_at"]
    list_filter = ["kind"]
    list_select_related = ["enrollment__patient", "actor"]


@admin.register(TrackMembership)
class TrackMembershipAdmin(ReadOnlyAdmin):
    list_display = ["patient", "track", "start_date", "end_date"]
    list_filter = ["track"]
    list_select_related = ["patient", "track"]


@admin.register(MedicationOrder)
class MedicationOrderAdmin(ReadOnlyAdmin):
    list_display = ["patient", "medication", "dose", "start_date", "stop_date"]
    list_filter = ["medication"]
    search_fields = ["patient__mrn", "patient__legal_last_name"]
    list_select_related = ["patient"]


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdmin):
    list_display = ["patient", "recipient", "purpose", "signed_on", "expires_on", "revoked_on"]
    search_fields = ["patient__mrn", "recipient"]
    list_select_related = ["patient"]
