from django.contrib import admin

from core.admin import AuditedModelAdmin, ReadOnlyAdmin

from .models import InboundSms, Notification, NotificationPreference, SiteNotificationSettings


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    """Read-only: the outbox is history; a resend (staff page) creates a new row."""

    list_display = ["pk", "kind", "channel", "recipient", "due_at", "status", "attempts", "sent_at"]
    list_filter = ["status", "kind", "channel"]
    date_hierarchy = "due_at"
    list_select_related = ["recipient"]
    search_fields = ["dedupe_key"]


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(ReadOnlyAdmin):
    # A person's own choices and their SMS consent (TCPA): changed by them in the portal
    # or by STOP, never behind their back here.
    patient_lookup = "user__patient__pk"
    list_display = [
        "user",
        "channel",
        "quiet_start",
        "quiet_end",
        "sms_consent_at",
        "sms_opted_out_at",
    ]
    list_select_related = ["user"]


@admin.register(InboundSms)
class InboundSmsAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "keyword", "action", "matched_users"]
    list_filter = ["action"]


@admin.register(SiteNotificationSettings)
class SiteNotificationSettingsAdmin(AuditedModelAdmin):
    list_display = ["site", "session_reminder_hours", "digest_at"]
