from django.contrib import admin

from core.admin import ReadOnlyAdmin

from .models import BreakGlassGrant, Disclosure


@admin.register(BreakGlassGrant)
class BreakGlassGrantAdmin(ReadOnlyAdmin):
    list_display = ["granted_at", "user", "patient", "expires_at", "reviewed_at"]


@admin.register(Disclosure)
class DisclosureAdmin(ReadOnlyAdmin):
    list_display = ["disclosed_at", "patient", "recipient", "purpose", "disclosed_by"]
