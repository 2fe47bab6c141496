"""One guard for what people type (#16): dates bounded to 1900-2199 and no control
characters (other than tab and line breaks), in every form of the project and in the
services behind them."""

from __future__ import annotations

import importlib
import pkgutil
from datetime import UTC, date, datetime

import pytest
from django import forms
from django.core.exceptions import ValidationError

from core.clock import parse_week
from core.forms import BoundedDateField, InputGuard
from core.validators import require_dates_in_range, require_plain_text

APPS = [
    "core",
    "patients",
    "scheduling",
    "privacy",
    "drugtests",
    "recovery",
    "notifications",
    "dashboard",
    "reports",
]
# Login and the MFA code are a separate piece of work (lockout, MFA), and the admin's
# forms are Django's own pages; each is named here so a new form cannot slip past.
NOT_GUARDED = {
    "core.forms.LoginForm",
    "core.forms.AdminLoginForm",  # on main since i16-accounts; a login form too
    "privacy.forms.TokenForm",
    "scheduling.admin.HolidayAdminForm",
}


def _project_forms() -> list[type[forms.BaseForm]]:
    for app in APPS:
        package = importlib.import_module(app)
        for info in pkgutil.walk_packages(package.__path__, f"{app}."):
            if ".migrations" not in info.name:
                importlib.import_module(info.name)
    found = []
    stack = list(forms.BaseForm.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.__module__.split(".")[0] in APPS:
            found.append(cls)
    return found


def test_every_form_of_the_project_is_guarded():
    project_forms = _project_forms()
    assert len(project_forms) > 40
    unguarded = sorted(
        f"{c.__module__}.{c.__qualname__}"
        for c in project_forms
        if not issubclass(c, InputGuard) and f"{c.__module__}.{c.__qualname__}" not in NOT_GUARDED
    )
    assert unguarded == []


class _Note(InputGuard, forms.Form):
    note = forms.CharField(required=False, widget=forms.Textarea)
    on = forms.DateField(required=False)


@pytest.mark.parametrize("text", ["a\x00b", "a\x1bb", "a\x7fb", "a\x85b", "a\x0bb", "a\x0cb"])
def test_guarded_form_refuses_control_characters(text):
    form = _Note({"note": text})
    assert not form.is_valid()
    assert "not allowed" in form.errors["note"][0]


def test_guarded_form_keeps_tabs_and_line_breaks():
    form = _Note({"note": "one\ttwo\r\nthree\nfour"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["note"] == "one\ttwo\r\nthree\nfour"


@pytest.mark.parametrize("typed", ["0001-01-01", "1899-12-31", "2200-01-01", "9999-12-31"])
def test_guarded_form_bounds_a_plain_date_field(typed):
    form = _Note({"on": typed})
    assert not form.is_valid()
    assert "between 1900 and 2199" in form.errors["on"][0]


def test_guarded_form_guards_a_field_added_after_init():
    form = _Note({"extra": "x\x00"})
    form.fields["extra"] = forms.CharField()
    assert not form.is_valid() and "extra" in form.errors


def test_guarded_model_form_bounds_its_model_date_fields():
    from patients.models import Patient

    class DobForm(InputGuard, forms.ModelForm[Patient]):
        class Meta:
            model = Patient
            fields = ["date_of_birth"]

    form = DobForm({"date_of_birth": "0001-01-01"})
    assert not form.is_valid()
    assert "between 1900 and 2199" in form.errors["date_of_birth"][0]


@pytest.mark.parametrize(
    ("typed", "ok"), [("1900-01-01", True), ("2199-12-31", True), ("2200-01-01", False)]
)
def test_bounded_date_field_takes_the_range_inclusive(typed, ok):
    class F(forms.Form):
        on = BoundedDateField()

    assert F({"on": typed}).is_valid() is ok


def test_services_refuse_dates_out_of_range_by_name():
    with pytest.raises(ValidationError) as err:
        require_dates_in_range(
            due_date=date(9999, 12, 31),
            signed_on=date(2026, 1, 1),
            at=datetime(1, 1, 1, tzinfo=UTC),
        )
    assert set(err.value.message_dict) == {"due_date", "at"}
    require_dates_in_range(due_date=None, on=date(2026, 11, 18))


def test_services_refuse_control_characters_by_name():
    with pytest.raises(ValidationError) as err:
        require_plain_text(note="a\x00b", key="fine\n")
    assert set(err.value.message_dict) == {"note"}


@pytest.mark.parametrize("typed", ["9999-12-31", "0001-01-01", "2200-01-05"])
def test_a_week_parameter_out_of_range_falls_back(typed):
    assert parse_week(typed, date(2026, 11, 18)) == date(2026, 11, 16)
