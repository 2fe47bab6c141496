from typing import Any, cast

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from core.admin import AuditedModelAdmin, ReadOnlyAdmin
from core.models import User

from .models import (
    Attendance,
    AttendanceChange,
    CalendarFeed,
    Holiday,
    Session,
    SessionSeries,
    SiteSchedule,
)


@admin.register(SiteSchedule)
class SiteScheduleAdmin(AuditedModelAdmin):
    list_display = ["site", "open_days", "weeks_ahead", "attendance_edit_days"]


class HolidayAdminForm(forms.ModelForm[Holiday]):
    class Meta:
        model = Holiday
        fields = ["site", "date", "name"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.instance._state.adding and data.get("site") and data.get("date"):
            from .services.site_holidays import holiday_check

            try:
                holiday_check(site=data["site"], day=data["date"])
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    self.add_error(field if field in self.fields else None, errors)
        return data


@admin.register(Holiday)
class HolidayAdmin(AuditedModelAdmin):
    form = HolidayAdminForm
    list_display = ["date", "name", "site", "status", "source"]
    list_filter = ["site", "status", "source"]
    # Closing and opening a day go through the services (audit, cancellations): the
    # director's holiday screen, not a raw admin save.
    readonly_fields = ["status", "source", "created_at", "updated_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # Moving a closed day would leave its sessions cancelled and the new day's open:
        # an existing holiday's name is all the admin changes (audited).
        fields = list(self.readonly_fields)
        return fields if obj is None else [*fields, "site", "date"]

    def audit_write(self, request: HttpRequest, obj: Any, *, change: bool, **kwargs: Any) -> None:
        if change:
            super().audit_write(request, obj, change=change, **kwargs)
        # An added holiday was recorded by holiday_add ("holiday.added"), in this transaction.

    def save_model(
        self, request: HttpRequest, obj: Holiday, form: forms.ModelForm[Holiday], change: bool
    ) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        # Through the service, so the day's sessions are cancelled with the holiday.
        from .services.site_holidays import holiday_add

        # The admin lets in signed-in superusers only (core.adminsite).
        actor = cast(User, request.user)
        saved = holiday_add(actor=actor, site=obj.site, day=obj.date, name=obj.name)
        obj.pk = saved.pk


@admin.register(SessionSeries)
class SessionSeriesAdmin(ReadOnlyAdmin):
    # Edits go through series_update (future occurrences only), not raw admin saves.
    list_display = ["track", "kind", "rrule", "start_time", "end_time", "starts_on", "ends_on"]
    list_filter = ["track__site", "is_active"]


@admin.register(Session)
class SessionAdmin(ReadOnlyAdmin):
    # A group session has no patient (its list shows none); an individual one has one.
    list_display = ["local_date", "starts_at", "kind", "track", "patient", "status"]
    list_filter = ["site", "status", "kind"]
    date_hierarchy = "local_date"


@admin.register(Attendance)
class AttendanceAdmin(ReadOnlyAdmin):
    list_display = ["session", "patient_id", "status", "minutes_credited"]
    list_filter = ["status"]


@admin.register(AttendanceChange)
class AttendanceChangeAdmin(ReadOnlyAdmin):
    patient_lookup = "attendance__patient_id"
    list_display = ["attendance", "from_status", "to_status", "changed_by", "changed_at"]


@admin.register(CalendarFeed)
class CalendarFeedAdmin(ReadOnlyAdmin):
    list_display = ["patient_id", "created_at", "revoked_at"]
    exclude = ["token"]
