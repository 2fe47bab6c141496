from django.contrib import admin
from django.http import HttpRequest

from core.admin import NoDeleteAdmin

from .models import BreakGlassGrant, Disclosure


@admin.register(BreakGlassGrant)
class BreakGlassGrantAdmin(NoDeleteAdmin):
    list_display = ["granted_at", "user", "patient", "expires_at", "reviewed_at"]
    readonly_fields = [f.name for f in BreakGlassGrant._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Disclosure)
class DisclosureAdmin(NoDeleteAdmin):
    list_display = ["disclosed_at", "patient", "recipient", "purpose", "disclosed_by"]
    readonly_fields = [f.name for f in Disclosure._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
