from typing import Any, cast

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from core.admin import NoDeleteAdmin
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
class SiteScheduleAdmin(NoDeleteAdmin):
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
class HolidayAdmin(NoDeleteAdmin):
    form = HolidayAdminForm
    list_display = ["date", "name", "site", "status", "source"]
    list_filter = ["site", "status", "source"]
    # Closing and opening a day go through the services (audit, cancellations): the
    # director's holiday screen, not a raw admin save.
    readonly_fields = ["status", "source", "created_at", "updated_at"]

    def save_model(
        self, request: HttpRequest, obj: Holiday, form: forms.ModelForm[Holiday], change: bool
    ) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        # Through the service, so the day's sessions are cancelled with the holiday.
        from .services.site_holidays import holiday_add

        # The admin lets in signed-in staff only.
        actor = cast(User, request.user)
        saved = holiday_add(actor=actor, site=obj.site, day=obj.date, name=obj.name)
        obj.pk = saved.pk


@admin.register(SessionSeries)
class SessionSeriesAdmin(NoDeleteAdmin):
    list_display = ["track", "kind", "rrule", "start_time", "end_time", "starts_on", "ends_on"]
    list_filter = ["track__site", "is_active"]
    readonly_fields = ["created_at", "updated_at"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Edits go through series_update (future occurrences only), not raw admin saves.
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Session)
class SessionAdmin(NoDeleteAdmin):
    list_display = ["local_date", "starts_at", "kind", "track", "patient", "status"]
    list_filter = ["site", "status", "kind"]
    date_hierarchy = "local_date"
    raw_id_fields = ["patient", "series", "track", "facilitator"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class ReadOnlyAdmin(NoDeleteAdmin):
    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Attendance)
class AttendanceAdmin(ReadOnlyAdmin):
    list_display = ["session", "patient_id", "status", "minutes_credited"]
    list_filter = ["status"]


@admin.register(AttendanceChange)
class AttendanceChangeAdmin(ReadOnlyAdmin):
    list_display = ["attendance", "from_status", "to_status", "changed_by", "changed_at"]


@admin.register(CalendarFeed)
class CalendarFeedAdmin(ReadOnlyAdmin):
    list_display = ["patient_id", "created_at", "revoked_at"]
    exclude = ["token"]
