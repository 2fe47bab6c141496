from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from core.admin import NoDeleteAdmin

from .models import InboundSms, Notification, NotificationPreference, SiteNotificationSettings


@admin.register(Notification)
class NotificationAdmin(NoDeleteAdmin):
    """Read-only: the outbox is history; a resend (staff page) creates a new row."""

    list_display = ["pk", "kind", "channel", "recipient", "due_at", "status", "attempts", "sent_at"]
    list_filter = ["status", "kind", "channel"]
    date_hierarchy = "due_at"
    list_select_related = ["recipient"]
    search_fields = ["dedupe_key"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(NoDeleteAdmin):
    list_display = [
        "user",
        "channel",
        "quiet_start",
        "quiet_end",
        "sms_consent_at",
        "sms_opted_out_at",
    ]
    list_select_related = ["user"]
    readonly_fields = ["sms_consent_at", "sms_opted_out_at", "updated_at"]


@admin.register(InboundSms)
class InboundSmsAdmin(NoDeleteAdmin):
    list_display = ["received_at", "keyword", "action", "matched_users"]
    list_filter = ["action"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SiteNotificationSettings)
class SiteNotificationSettingsAdmin(NoDeleteAdmin):
    list_display = ["site", "session_reminder_hours", "digest_at"]
