"""Admin for patients' records. Nothing is deleted; the enrollment's clinical values and
its history change only through the services (chart forms), which write the history."""

from typing import Any

from django.contrib import admin
from django.forms import ModelForm
from django.http import HttpRequest

from core.admin import NoDeleteAdmin

from .models import (
    Consent,
    Enrollment,
    EnrollmentEvent,
    MedicationOrder,
    Patient,
    ProgramPhase,
    TrackMembership,
)


class ReadOnlyAdmin(NoDeleteAdmin):
    """Append-only records: viewable, never added, changed or deleted here."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline[Any, Any]):
    # Subclasses show their fields read-only: `fields = readonly_fields = (...)`, a tuple,
    # the one type both attributes accept.
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


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
class ProgramPhaseAdmin(NoDeleteAdmin):
    list_display = ["name", "number", "site", "is_active"]
    list_filter = ["site", "is_active"]


@admin.register(Patient)
class PatientAdmin(NoDeleteAdmin):
    list_display = ["mrn", "legal_last_name", "legal_first_name", "site", "primary_counselor"]
    list_filter = ["site", "is_archived"]
    search_fields = ["mrn", "legal_last_name", "legal_first_name", "preferred_name"]
    list_select_related = ["site", "primary_counselor"]
    # Identity and placement are set by intake and the enrollment services.
    readonly_fields = [
        "organization",
        "site",
        "mrn",
        "primary_counselor",
        "created_at",
        "updated_at",
    ]
    raw_id_fields = ["user"]
    inlines = [EnrollmentInline, MedicationOrderInline, ConsentInline]


@admin.register(Enrollment)
class EnrollmentAdmin(NoDeleteAdmin):
    list_display = ["patient", "site", "level", "track", "phase", "status", "admission_date"]
    list_filter = ["site", "status", "level"]
    search_fields = ["patient__mrn", "patient__legal_last_name"]
    list_select_related = ["patient", "site", "track", "phase"]
    # Level, track, phase, status and discharge change through the chart's forms so the
    # history, the roster and the audit trail stay in step.
    readonly_fields = [
        "patient",
        "site",
        "level",
        "track",
        "phase",
        "status",
        "admission_date",
        "discharge_date",
        "discharge_type",
        "version",
        "created_at",
    ]
    fields = [
        *readonly_fields[:10],
        "expected_end_date",
        "referral_source",
        "referral_note",
        "aftercare_plan",
        "discharge_note",
        "created_at",
    ]
    inlines = [EnrollmentEventInline, TrackMembershipInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # intake and re-admission open enrollments

    def save_model(
        self, request: HttpRequest, obj: Enrollment, form: ModelForm[Enrollment], change: bool
    ) -> None:
        obj.version += 1  # an open chart form must not overwrite this edit
        super().save_model(request, obj, form, change)


@admin.register(EnrollmentEvent)
class EnrollmentEventAdmin(ReadOnlyAdmin):
    list_display = ["enrollment", "kind", "effective_date", "actor", "recorded_at"]
    list_filter = ["kind"]
    list_select_related = ["enrollment__patient", "actor"]


@admin.register(TrackMembership)
class TrackMembershipAdmin(ReadOnlyAdmin):
    list_display = ["patient", "track", "start_date", "end_date"]
    list_filter = ["track"]
    list_select_related = ["patient", "track"]


@admin.register(MedicationOrder)
class MedicationOrderAdmin(NoDeleteAdmin):
    list_display = ["patient", "medication", "dose", "start_date", "stop_date"]
    list_filter = ["medication"]
    search_fields = ["patient__mrn", "patient__legal_last_name"]
    list_select_related = ["patient"]
    readonly_fields = ["patient", "created_by", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # from the chart, which checks the rules and audits


@admin.register(Consent)
class ConsentAdmin(NoDeleteAdmin):
    list_display = ["patient", "recipient", "purpose", "signed_on", "expires_on", "revoked_on"]
    search_fields = ["patient__mrn", "recipient"]
    list_select_related = ["patient"]
    readonly_fields = ["patient", "created_by", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # from the chart, which audits
