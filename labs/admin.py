from django.contrib import admin

from core.admin import ReadOnlyAdmin

from .models import AnalyteCode, InboundMessage, InboundObservation, LabInterface

# Read-only here: the code table changes on the director's screen (labs:codes), which
# applies the results that waited for a code; interfaces and their tokens on theirs;
# messages are evidence.


@admin.register(AnalyteCode)
class AnalyteCodeAdmin(ReadOnlyAdmin):
    list_display = ["code", "organization", "kind", "analyte", "default_cutoff", "preferred"]
    list_filter = ["kind", "is_active"]
    patient_lookup = None


@admin.register(LabInterface)
class LabInterfaceAdmin(ReadOnlyAdmin):
    list_display = ["name", "organization", "sending_facility", "is_active", "token_issued_at"]
    exclude = ["token_hash"]
    patient_lookup = None


@admin.register(InboundMessage)
class InboundMessageAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "interface", "control_id", "ack_code", "status"]
    list_filter = ["status", "ack_code"]
    exclude = ["raw"]
    patient_lookup = "specimen__patient_id"


@admin.register(InboundObservation)
class InboundObservationAdmin(ReadOnlyAdmin):
    list_display = ["message", "position", "code", "value", "state"]
    list_filter = ["state"]
    patient_lookup = "message__specimen__patient_id"
