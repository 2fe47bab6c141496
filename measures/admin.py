"""Instruments and schedules are reference data (editable, audited; an instrument's
published text is changed by a new version row, so the admin edits its activity and
metadata, not its history). Sittings, answers and safety events are the clinical record:
read-only here, written only through the portal and staff screens, each look audited
against the patient."""

from django.contrib import admin

from core.admin import AuditedModelAdmin, ReadOnlyAdmin, ReadOnlyInline

from .models import (
    Administration,
    Answer,
    Instrument,
    InstrumentItem,
    MeasureSchedule,
    SafetyEvent,
)


@admin.register(Instrument)
class InstrumentAdmin(AuditedModelAdmin):
    list_display = ["short_name", "code", "version", "loinc_panel", "loinc_total", "is_active"]
    list_filter = ["is_active"]


@admin.register(InstrumentItem)
class InstrumentItemAdmin(AuditedModelAdmin):
    list_display = ["instrument", "number", "link_id", "loinc", "required"]
    list_filter = ["instrument"]


@admin.register(MeasureSchedule)
class MeasureScheduleAdmin(AuditedModelAdmin):
    list_display = [
        "site",
        "instrument_code",
        "level",
        "every_days",
        "at_admission",
        "at_discharge",
        "is_active",
    ]
    list_filter = ["site", "level", "instrument_code"]


class AnswerInline(ReadOnlyInline):
    model = Answer
    fields = readonly_fields = ("item", "value", "answered_at")


@admin.register(Administration)
class AdministrationAdmin(ReadOnlyAdmin):
    list_display = ["patient", "instrument", "reason", "due_on", "status", "mode", "total"]
    list_filter = ["status", "reason", "mode"]
    inlines = [AnswerInline]


@admin.register(Answer)
class AnswerAdmin(ReadOnlyAdmin):
    list_display = ["administration", "item", "value", "answered_at"]
    patient_lookup = "administration__patient_id"


@admin.register(SafetyEvent)
class SafetyEventAdmin(ReadOnlyAdmin):
    list_display = ["patient", "item_number", "value", "raised_at", "followup_at", "owner"]
