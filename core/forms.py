from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import audit, limits, lockout
from .clock import local_datetime
from .formats import format_day, format_time
from .models import AuditEvent
from .validators import (
    EARLIEST,
    LATEST,
    OUT_OF_RANGE,
    date_in_range,
    validate_date_in_range,
    validate_no_control_characters,
)


def add_service_errors(
    form: forms.Form, exc: ValidationError, field_map: dict[str, str] | None = None
) -> None:
    """Show a service's ValidationError on the form, by field where the form has it.

    ``field_map`` renames a service argument to the form field that carries it (e.g. a
    service's ``arrived_at`` shown on the form's ``arrived``).
    """
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            field = (field_map or {}).get(name, name)
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


class CountedTextarea(forms.Textarea):
    """A textarea with its field's ``maxlength`` and, under it, "N characters left" once the
    text nears the limit (the last tenth; static/js/stepwise.js keeps the count).

    The count is a polite live region, so a screen reader hears it without losing its
    place. A browser counts a line break once but posts it as CR LF, so line breaks are
    read back as LF: text the browser let through is not then refused as too long.
    """

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        value = super().value_from_datadict(data, files, name)
        if isinstance(value, str):
            return value.replace("\r\n", "\n").replace("\r", "\n")
        return value

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        textarea = super().render(name, value, attrs, renderer)
        final = {**self.attrs, **(attrs or {})}
        limit, element_id = final.get("maxlength"), final.get("id")
        if not limit or not element_id:
            return textarea
        typed = len(value) if isinstance(value, str) else 0
        return format_html("{}{}", textarea, counter_html(element_id, int(limit), typed))


def counter_html(element_id: str, limit: int, typed: int = 0) -> SafeString:
    """The "N characters left" line of a textarea, filled already if the text is near its
    limit (it then reads right without JavaScript); hand-written textareas use it through
    ``{% text_counter %}``."""
    near = max(1, round(limit * limits.NEAR_SHARE))
    left = limit - typed
    return format_html(
        '<div class="form-text char-counter" id="{}_left" data-counter-for="{}" '
        'data-counter-near="{}" data-one="{}" data-many="{}" aria-live="polite">{}</div>',
        element_id,
        element_id,
        near,
        # The words static/js/stepwise.js writes as the user types, in the page's language.
        ngettext("%(left)s character left", "%(left)s characters left", 1),
        ngettext("%(left)s character left", "%(left)s characters left", 2),
        characters_left(left) if left <= near else "",
    )


def characters_left(left: int) -> str:
    # static/js/stepwise.js writes the same words as the user types.
    return ngettext("%(left)s character left", "%(left)s characters left", left) % {
        "left": f"{left:,}"
    }


def text_field(limit: int, *, rows: int = 2, **kwargs: Any) -> forms.CharField:
    """A plain form's free-text field: its limit from ``core.limits`` and the counter."""
    return forms.CharField(max_length=limit, widget=CountedTextarea(attrs={"rows": rows}), **kwargs)


def counted(rows: int = 2) -> CountedTextarea:
    """A ModelForm's widget for a TextField: the limit comes from the model."""
    return CountedTextarea(attrs={"rows": rows})


LOCAL_INPUT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]


class SiteDateTimeField(forms.DateTimeField):
    """A date and time typed on a site's wall clock, and shown back on it.

    Django reads a typed datetime in the *active* zone, which is the viewer's; a director
    in New York recording a collection in Oakland must still be read as Oakland time. The
    form sets ``tz`` (usually ``site.tz``) before binding. A wall time that does not exist
    (spring forward) is refused with a message; an ambiguous one (fall back) takes its
    first occurrence, as everywhere else (``core.clock.local_datetime``).
    """

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")

    def __init__(self, *, tz: ZoneInfo | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("input_formats", LOCAL_INPUT_FORMATS)
        super().__init__(**kwargs)
        self.tz = tz

    def _zone(self) -> ZoneInfo:
        return self.tz or timezone.get_current_timezone()

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, datetime) and timezone.is_aware(value):
            return value.astimezone(self._zone()).replace(tzinfo=None)
        return value

    def to_python(self, value: Any) -> datetime | None:
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            if timezone.is_aware(value):
                return value
            naive = value
        else:
            parsed: datetime | None = None
            for fmt in self.input_formats:
                try:
                    parsed = datetime.strptime(str(value).strip(), fmt)
                    break
                except (ValueError, TypeError):
                    continue
            if parsed is None:
                raise ValidationError(self.error_messages["invalid"], code="invalid")
            naive = parsed
        # Far-off years are typing slips, and year 1 or 9999 overflows on conversion.
        if not date_in_range(naive):
            raise ValidationError(OUT_OF_RANGE, code="out_of_range")
        zone = self._zone()
        instant = local_datetime(naive.date(), naive.time(), zone)
        if instant.replace(tzinfo=None) != naive:
            # Refused rather than guessed: a person who typed a time that never happened
            # on the wall clock means something else, and should say what.
            raise ValidationError(
                f"{format_time(naive.time())} on {format_day(naive.date())} did not happen "
                f"in {zone.key}: the clocks went forward an hour that night. Enter the time "
                "again.",
                code="nonexistent",
            )
        # In UTC: an aware time inside the repeated hour compares unequal to everything
        # in another zone (PEP 495), which would trip later checks.
        return instant.astimezone(UTC)


_DATE_BOUNDS = {"min": EARLIEST.isoformat(), "max": LATEST.isoformat()}


class BoundedDateField(forms.DateField):
    """A date typed on a date picker, inside the supported years (1900-2199)."""

    default_validators = [validate_date_in_range]

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
        super().__init__(**kwargs)
        for key, value in _DATE_BOUNDS.items():
            self.widget.attrs.setdefault(key, value)


def guard_field(field: forms.Field) -> None:
    """Give one field the project's bounds: no control characters in text, dates inside
    the supported years. Idempotent."""
    wanted: list[Any] = []
    if isinstance(field, forms.CharField):
        wanted.append(validate_no_control_characters)
    elif isinstance(field, forms.DateField | forms.DateTimeField) and not isinstance(
        field,
        SiteDateTimeField,  # bounds the typed wall time itself
    ):
        wanted.append(validate_date_in_range)
        if isinstance(field.widget, forms.DateInput):
            for key, value in _DATE_BOUNDS.items():
                field.widget.attrs.setdefault(key, value)
    for validator in wanted:
        if validator not in field.validators:
            field.validators.append(validator)


class InputGuard(forms.BaseForm):
    """Mixed into every form of the project (``tests/core/test_input_guard.py`` checks
    it): each text field refuses control characters and each date field dates outside
    1900-2199, without listing fields, so a ModelForm's generated date fields and a
    field a form adds in its ``__init__`` are covered too. Put it first:
    ``class MyForm(InputGuard, forms.Form)``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Now for the rendered date pickers' bounds; again before cleaning for fields
        # added after this runs.
        for field in self.fields.values():
            guard_field(field)

    def full_clean(self) -> None:
        for field in self.fields.values():
            guard_field(field)
        super().full_clean()


class LoginForm(AuthenticationForm):
    error_messages = {
        # Says neither which part was wrong nor whether the account exists.
        "invalid_login": _("That username and password do not match. Please try again."),
        "inactive": _("That username and password do not match. Please try again."),
        "locked": _("Too many failed attempts. Wait {minutes} minutes, or call the front desk."),
    }

    def clean(self) -> dict[str, Any]:
        # Checked before the password, so a locked account cannot be probed further
        # (core/lockout.py: per username and address, per username, per address).
        username = (self.cleaned_data.get("username") or "")[:150]
        lock = (
            lockout.login_lock(username=username, ip=audit.client_ip(self.request))
            if username
            else None
        )
        if lock is not None:
            audit.record(
                action="auth.login_locked",
                request=self.request,
                outcome=AuditEvent.Outcome.DENIED,
                actor_label=username,
                detail={"scope": lock.scope},
            )
            raise ValidationError(
                self.error_messages["locked"].format(minutes=settings.LOGIN_LOCKOUT_MINUTES),
                code="locked",
            )
        return super().clean()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs["autocomplete"] = "username"
        self.fields["password"].widget.attrs["autocomplete"] = "current-password"
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Log in", css_class="w-100"))


class AdminLoginForm(LoginForm, AdminAuthenticationForm):
    """The admin's login (``admin.site.login_form``): the same lockout and messages as
    the staff login, and the admin's own rule that only ``is_staff`` accounts get in.
    MFA needs nothing here: ``MFARequiredMiddleware`` sends clinic staff to the second
    step on any page, the admin's included."""
