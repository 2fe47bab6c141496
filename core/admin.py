from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest

from .models import AuditEvent, Organization, Site, StaffProfile, User


class NoDeleteAdmin(admin.ModelAdmin[Any]):
    """Clinical and audit records are archived, never deleted, even by superusers."""

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Organization)
class OrganizationAdmin(NoDeleteAdmin):
    list_display = ["name", "mrn_prefix"]
    readonly_fields = ["mrn_counter"]


@admin.register(Site)
class SiteAdmin(NoDeleteAdmin):
    list_display = ["name", "code", "organization", "time_zone", "is_active"]
    list_filter = ["organization", "is_active"]


class StaffProfileInline(admin.StackedInline[StaffProfile, User]):
    model = StaffProfile
    can_delete = False
    filter_horizontal = ["sites"]


@admin.register(User)
class UserAdmin(BaseUserAdmin[User]):
    inlines = [StaffProfileInline]
    list_display = ["username", "first_name", "last_name", "is_active", "is_staff"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Deactivate instead: the audit trail refers to every account that ever existed.
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin[AuditEvent]):
    list_display = ["seq", "at", "actor_label", "action", "outcome", "patient_id", "ip"]
    list_filter = ["action", "outcome"]
    search_fields = ["actor_label", "object_id"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
