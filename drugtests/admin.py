from django.contrib import admin

from core.admin import AuditedModelAdmin, ReadOnlyAdmin

from .models import (
    Draw,
    DrawCorrection,
    DrawPoolEntry,
    Selection,
    SiteTestingSettings,
    Specimen,
    TestAlert,
    TestingPolicy,
    TestResult,
)


@admin.register(TestingPolicy)
class TestingPolicyAdmin(AuditedModelAdmin):
    list_display = ["name", "site", "phase", "frequency", "period", "collection_days", "is_active"]
    list_filter = ["site", "is_active"]


@admin.register(SiteTestingSettings)
class SiteTestingSettingsAdmin(AuditedModelAdmin):
    list_display = ["site", "draw_time", "draws_enabled"]


# Draws and everything after them are evidence: read-only (core.admin.ReadOnlyAdmin).


@admin.register(Draw)
class DrawAdmin(ReadOnlyAdmin):
    list_display = ["pk", "site", "date", "seq", "pool_size", "selected_count", "trigger"]
    list_filter = ["site"]
    date_hierarchy = "date"


@admin.register(DrawPoolEntry)
class DrawPoolEntryAdmin(ReadOnlyAdmin):
    list_display = ["draw", "patient_id", "policy", "p_num", "p_den", "uniform", "selected"]
    list_select_related = ["draw", "draw__site", "policy"]


@admin.register(DrawCorrection)
class DrawCorrectionAdmin(ReadOnlyAdmin):
    patient_lookup = "selection__patient_id"
    list_display = ["draw", "kind", "selection", "created_by", "created_at"]


@admin.register(Selection)
class SelectionAdmin(ReadOnlyAdmin):
    list_display = ["date", "site", "patient_id", "kind", "status", "outcome"]
    list_filter = ["site", "kind", "status"]


@admin.register(Specimen)
class SpecimenAdmin(ReadOnlyAdmin):
    list_display = ["chain_of_custody_id", "collected_at", "method", "validity"]


@admin.register(TestResult)
class TestResultAdmin(ReadOnlyAdmin):
    patient_lookup = "specimen__patient_id"
    list_display = ["specimen", "source", "entered_at"]


@admin.register(TestAlert)
class TestAlertAdmin(ReadOnlyAdmin):
    list_display = ["kind", "site", "patient_id", "analyte", "created_at", "resolved_at"]
    list_filter = ["kind", "site"]
