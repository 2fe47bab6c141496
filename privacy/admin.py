from django.contrib import admin
from django_otp.plugins.otp_static import admin as _otp_static_admin  # noqa: F401
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp import admin as _otp_totp_admin  # noqa: F401
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.admin import ReadOnlyAdmin

from .models import BreakGlassGrant, Disclosure


@admin.register(BreakGlassGrant)
class BreakGlassGrantAdmin(ReadOnlyAdmin):
    list_display = ["granted_at", "user", "patient", "expires_at", "reviewed_at"]


@admin.register(Disclosure)
class DisclosureAdmin(ReadOnlyAdmin):
    list_display = ["disclosed_at", "patient", "recipient", "purpose", "disclosed_by"]


# Two-step devices. django-otp's own admin classes let a superuser delete a colleague's
# authenticator (the "lost phone" fix) with no audit row, add one with a chosen key, and
# read the key back as a QR code. They are replaced here (their modules are imported
# above so that they are registered first); the audited reset is the director's page
# (privacy:mfa_reset).
class OTPDeviceAdmin(ReadOnlyAdmin):
    """Who has which device: no key, no tokens, no add, change or delete."""

    list_display = ["user", "name", "confirmed", "created_at", "last_used_at"]
    list_filter = ["confirmed"]
    search_fields = ["user__username", "user__last_name"]
    fields = readonly_fields = ("user", "name", "confirmed", "created_at", "last_used_at")
    patient_lookup = None  # staff credentials, no patient data


for _model in (TOTPDevice, StaticDevice):
    admin.site.unregister(_model)
    admin.site.register(_model, OTPDeviceAdmin)
