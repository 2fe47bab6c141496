from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from datetime import date, datetime, time
from typing import Any, cast

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Field, Layout, Row, Submit
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from core import limits
from core.clock import local_datetime
from core.forms import InputGuard, add_service_errors, text_field
from core.models import Role, Site, User
from patients.models import Patient

from .models import (
    ATTENDED_STATUSES,
    GROUP_KINDS,
    INDIVIDUAL_KINDS,
    WEEKDAY_CODES,
    AttendanceStatus,
    Session,
    SessionKind,
)

WEEKDAY_CHOICES = list(
    zip(
        WEEKDAY_CODES,
        ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
        strict=True,
    )
)


def staff_at_site(
    site: Site, roles: Iterable[str] = (Role.COUNSELOR, Role.DIRECTOR, Role.MEDICAL)
) -> QuerySet[User]:
    return (
        User.objects.filter(is_active=True, staff_profile__role__in=roles)
        .filter(staff_profile__sites=site)
        .order_by("last_name", "first_name", "username")
        .distinct()
    )


class ServiceErrorsMixin:
    """Put a service's ``ValidationError`` on the form's fields (or the form)."""

    # service argument name -> form field name, where they differ
    error_fields: dict[str, str] = {}

    def apply_errors(self, exc: ValidationError) -> None:
        add_service_errors(cast(forms.Form, self), exc, self.error_fields)  # mixed into forms


class AttendanceForm(InputGuard, ServiceErrorsMixin, forms.Form):
    """One attendee's row on the attendance screen (times are site-local on the session day)."""

    error_fields = {"arrived_at": "arrived", "left_at": "left"}

    status = forms.ChoiceField(choices=[("", "— not marked —"), *AttendanceStatus.choices])
    arrived = forms.TimeField(
        label="Arrived", required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    left = forms.TimeField(
        label="Left", required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    note = text_field(limits.NOTE, rows=1, label="Participation note", required=False)
    reason = forms.CharField(
        label="Reason for late entry or change", required=False, max_length=limits.SHORT_REASON
    )

    def __init__(self, *args: Any, session: Session, needs_reason: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.session = session
        self.fields["reason"].required = needs_reason
        if not needs_reason:
            self.fields["reason"].widget = forms.HiddenInput()
        # Rendered field by field in _attendance_row.html, not through a crispy layout:
        # a roster renders one form per attendee, and a crispy layout per row cost ~7 ms.
        self.fields["status"].widget.attrs.update(
            {"class": "form-select form-select-sm", "data-attendance-status": "1"}
        )
        for name in ("arrived", "left", "note", "reason"):
            self.fields[name].widget.attrs.setdefault("class", "form-control form-control-sm")
        for name in self.errors:
            if name in self.fields:
                css = self.fields[name].widget.attrs.get("class", "")
                self.fields[name].widget.attrs["class"] = f"{css} is-invalid".strip()
                self.fields[name].widget.attrs["aria-invalid"] = "true"

    def clean_status(self) -> str:
        value: str = self.cleaned_data["status"]
        if not value:
            raise ValidationError("Choose a status.")
        return value

    def _aware(self, value: time | None) -> datetime | None:
        if value is None:
            return None
        return local_datetime(self.session.local_date, value, self.session.site.tz)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        status = data.get("status")
        if status and status not in ATTENDED_STATUSES:
            data["arrived"] = data["left"] = None
        data["arrived_at"] = self._aware(data.get("arrived"))
        data["left_at"] = self._aware(data.get("left"))
        return data


class ReasonForm(InputGuard, forms.Form):
    reason = forms.CharField(
        label="Reason for late entry", required=False, max_length=limits.SHORT_REASON
    )


class MakeUpForm(InputGuard, ServiceErrorsMixin, forms.Form):
    patient: forms.ModelChoiceField[Patient] = forms.ModelChoiceField(
        queryset=None, label="Make-up attendee"
    )
    reason = forms.CharField(
        label="Reason for late entry", required=False, max_length=limits.SHORT_REASON
    )

    def __init__(
        self, *args: Any, patients: QuerySet[Patient], needs_reason: bool, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        field = cast("forms.ModelChoiceField[Patient]", self.fields["patient"])
        field.queryset = patients
        # Per instance, as Django's docs do it; mypy sees a method replaced.
        field.label_from_instance = lambda p: f"{p.display_name} ({p.mrn})"  # type: ignore[method-assign,assignment]
        self.fields["reason"].required = needs_reason
        if not needs_reason:
            self.fields["reason"].widget = forms.HiddenInput()
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True


class CancelForm(InputGuard, ServiceErrorsMixin, forms.Form):
    reason = forms.CharField(label="Why is the session cancelled?", max_length=200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        cancel = Submit("submit", "Cancel session")
        # crispy's Submit is "btn btn-primary": an outline class added on top kept the
        # blue fill under red text (2.2:1, issue 21). The outline alone.
        cancel.field_classes = "btn btn-outline-danger"
        self.helper.add_input(cancel)


class MoveForm(InputGuard, ServiceErrorsMixin, forms.Form):
    error_fields = {"ends_at": "end", "starts_at": "day"}

    day = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}))
    start = forms.TimeField(label="Starts", widget=forms.TimeInput(attrs={"type": "time"}))
    end = forms.TimeField(label="Ends", widget=forms.TimeInput(attrs={"type": "time"}))
    room = forms.CharField(label="Room", required=False, max_length=80)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Row(
                Column("day", css_class="col-12 col-md-4"),
                Column("start", css_class="col-6 col-md-2"),
                Column("end", css_class="col-6 col-md-2"),
                Column("room", css_class="col-12 col-md-4"),
            )
        )
        self.helper.add_input(Submit("submit", "Move this session"))

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("start") and data.get("end") and data["end"] <= data["start"]:
            self.add_error("end", "The session must end after it starts.")
        return data


class SeriesForm(InputGuard, ServiceErrorsMixin, forms.Form):
    error_fields = {"effective_date": "starts_on"}

    kind = forms.ChoiceField(
        label="Session kind", choices=[(k.value, k.label) for k in GROUP_KINDS]
    )
    topic = forms.CharField(label="Topic", required=False, max_length=120)
    weekdays = forms.MultipleChoiceField(
        label="Days", choices=WEEKDAY_CHOICES, widget=forms.CheckboxSelectMultiple
    )
    start_time = forms.TimeField(
        label="Starts (site time)", widget=forms.TimeInput(attrs={"type": "time"})
    )
    end_time = forms.TimeField(
        label="Ends (site time)", widget=forms.TimeInput(attrs={"type": "time"})
    )
    starts_on = forms.DateField(
        label="From", widget=forms.DateInput(attrs={"type": "date"}), initial=date.today
    )
    ends_on = forms.DateField(
        label="Until (optional)", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    facilitator: forms.ModelChoiceField[User] = forms.ModelChoiceField(
        queryset=None, required=False, label="Facilitator"
    )
    room = forms.CharField(label="Room", required=False, max_length=80)

    def __init__(self, *args: Any, site: Site, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast("forms.ModelChoiceField[User]", self.fields["facilitator"]).queryset = staff_at_site(
            site
        )
        if editing:
            self.fields["starts_on"].label = "Change applies from"
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Row(Column("kind", css_class="col-md-6"), Column("topic", css_class="col-md-6")),
            Field("weekdays"),
            Row(
                Column("start_time", css_class="col-6 col-md-3"),
                Column("end_time", css_class="col-6 col-md-3"),
                Column("starts_on", css_class="col-6 col-md-3"),
                Column("ends_on", css_class="col-6 col-md-3"),
            ),
            Row(Column("facilitator", css_class="col-md-6"), Column("room", css_class="col-md-6")),
        )
        self.helper.add_input(Submit("submit", "Save series"))

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if (
            data.get("start_time")
            and data.get("end_time")
            and data["end_time"] <= data["start_time"]
        ):
            self.add_error("end_time", "The session must end after it starts.")
        if data.get("ends_on") and data.get("starts_on") and data["ends_on"] < data["starts_on"]:
            self.add_error("ends_on", "The series cannot end before it starts.")
        return data

    SCHEDULE_FIELDS = (
        "weekdays",
        "start_time",
        "end_time",
        "ends_on",
        "kind",
        "topic",
        "facilitator",
        "room",
    )

    def schedule_kwargs(self) -> dict[str, Any]:
        """The weekly pattern, as both series_create and series_update take it."""
        return {name: self.cleaned_data[name] for name in self.SCHEDULE_FIELDS}


class BookingForm(InputGuard, ServiceErrorsMixin, forms.Form):
    error_fields = {"ends_at": "end", "starts_at": "day"}

    kind = forms.ChoiceField(
        label="Session kind",
        choices=[(k.value, k.label) for k in SessionKind if k in INDIVIDUAL_KINDS],
    )
    day = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}))
    start = forms.TimeField(label="Starts", widget=forms.TimeInput(attrs={"type": "time"}))
    end = forms.TimeField(label="Ends", widget=forms.TimeInput(attrs={"type": "time"}))
    facilitator: forms.ModelChoiceField[User] = forms.ModelChoiceField(queryset=None, label="With")
    room = forms.CharField(label="Room", required=False, max_length=80)
    video_link = forms.URLField(label="Video link", required=False, assume_scheme="https")
    topic = forms.CharField(label="Topic (staff only)", required=False, max_length=120)

    def __init__(self, *args: Any, site: Site, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast("forms.ModelChoiceField[User]", self.fields["facilitator"]).queryset = staff_at_site(
            site
        )
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Row(Column("kind", css_class="col-md-6"), Column("facilitator", css_class="col-md-6")),
            Row(
                Column("day", css_class="col-12 col-md-4"),
                Column("start", css_class="col-6 col-md-4"),
                Column("end", css_class="col-6 col-md-4"),
            ),
            Row(Column("room", css_class="col-md-6"), Column("video_link", css_class="col-md-6")),
            Field("topic"),
        )
        self.helper.add_input(Submit("submit", "Book session"))

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("start") and data.get("end") and data["end"] <= data["start"]:
            self.add_error("end", "The session must end after it starts.")
        return data


class HolidayForm(InputGuard, ServiceErrorsMixin, forms.Form):
    """A day the site closes. The bounds (today to the end of the seeded years) are the
    service's; the form shows them on the date picker."""

    date = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}))
    name = forms.CharField(label="Name", max_length=80)

    # dt.date: in this class `date` is the field.
    def __init__(self, *args: Any, first: dt.date, last: dt.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.first, self.last = first, last
        self.fields["date"].widget.attrs.update({"min": first.isoformat(), "max": last.isoformat()})
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Row(
                Column("date", css_class="col-12 col-md-4"),
                Column("name", css_class="col-12 col-md-8"),
            )
        )
        self.helper.add_input(Submit("submit", "Add holiday"))

    def clean_date(self) -> dt.date:
        value: dt.date = self.cleaned_data["date"]
        if not self.first <= value <= self.last:
            raise ValidationError(
                f"Choose a day from {self.first:%b %d, %Y} to {self.last:%b %d, %Y}."
            )
        return value

    def clean_name(self) -> str:
        value = " ".join(self.cleaned_data["name"].split())
        if not value:
            raise ValidationError("Name the holiday.")
        return value


class HolidayChangeForm(InputGuard, forms.Form):
    """The holiday list's remove and restore buttons."""

    holiday = forms.IntegerField(min_value=1, max_value=2**31 - 1)
    action = forms.ChoiceField(choices=[("remove", "Remove"), ("restore", "Restore")])
