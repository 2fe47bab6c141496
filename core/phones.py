"""Phone numbers: one reading, one stored form, one way of writing them.

Every phone number the clinic keeps (patients, emergency contacts, sponsors, staff, sites,
the organisation's text number) is read here with libphonenumber (``phonenumbers``) in
the region of the site it belongs to, and stored as E.164 (``+15185550142``): equal
numbers are then equal strings, so the SMS webhook finds the sender with an indexed
lookup instead of comparing digits patient by patient. It is written back nationally
for the site (``(518) 555-0142``), or internationally when it belongs to another country.

A value that is not a valid number is refused with a message, never stored: a text
provider given "call me maybe" fails at send time, long after anyone could fix it.
"""

from __future__ import annotations

from typing import Any

import phonenumbers
from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from phonenumbers import PhoneNumber, PhoneNumberFormat, PhoneNumberType

DEFAULT_REGION = "US"
# E.164: a "+" and at most 15 digits.
E164_MAX_LENGTH = 16
# What a person may type around those digits: spaces, dashes, brackets, a leading "1".
INPUT_MAX_LENGTH = 40

INVALID_MESSAGE = "Enter a phone number with its area code, e.g. (518) 555-0142."
EXTENSION_MESSAGE = "Enter a direct number without an extension: texts cannot reach one."

# Types a text can reach. A North American number does not say whether it is a mobile
# (FIXED_LINE_OR_MOBILE), so it is accepted; countries that tell them apart refuse a landline.
TEXTABLE_TYPES = frozenset(
    {
        PhoneNumberType.MOBILE,
        PhoneNumberType.FIXED_LINE_OR_MOBILE,
        PhoneNumberType.PERSONAL_NUMBER,
        PhoneNumberType.VOIP,
    }
)


def _region(region: str | None) -> str:
    return (region or DEFAULT_REGION).upper()


def phone_parse(raw: str, *, region: str | None = DEFAULT_REGION) -> PhoneNumber:
    """The number typed in ``raw`` (read in ``region`` unless it starts with +).
    Raises ValidationError with a message for a person when it is not a valid number."""
    try:
        number = phonenumbers.parse(raw, _region(region))
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(INVALID_MESSAGE, code="invalid_phone") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(INVALID_MESSAGE, code="invalid_phone")
    if number.extension:
        # E.164 has no extension: storing it would silently drop part of what was typed.
        raise ValidationError(EXTENSION_MESSAGE, code="phone_extension")
    return number


def phone_normalize(raw: str | None, *, region: str | None = DEFAULT_REGION) -> str:
    """The E.164 form of a typed number, or "" for a blank one; ValidationError otherwise."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    return phonenumbers.format_number(phone_parse(raw, region=region), PhoneNumberFormat.E164)


def phone_e164_or_none(raw: str | None, *, region: str | None = DEFAULT_REGION) -> str | None:
    """``phone_normalize`` for code that must not raise (a provider's number, old data):
    None when ``raw`` is not a valid number."""
    try:
        return phone_normalize(raw, region=region)
    except ValidationError:
        return None


def phone_can_text(e164: str | None) -> bool:
    """Whether a stored number is one a text message can reach."""
    if not e164:
        return False
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return False
    return (
        phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) in TEXTABLE_TYPES
    )


def phone_display(e164: str | None, region: str | None = DEFAULT_REGION) -> str:
    """A stored number written for a reader at a site in ``region``: nationally when the
    number is that country's, internationally otherwise; anything unreadable as it is."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, _region(region))
    except phonenumbers.NumberParseException:
        return e164
    if phonenumbers.region_code_for_number(number) == _region(region):
        return phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)


def validate_e164(value: str) -> None:
    """Model-level check: what is stored is already E.164 (forms and services normalise)."""
    if value and phone_e164_or_none(value, region=None) != value:
        raise ValidationError(INVALID_MESSAGE, code="invalid_phone")


class PhoneFormField(forms.CharField):
    """A phone number typed by a person: read in ``region`` (the form sets the site's
    country), cleaned to E.164, and shown back written nationally."""

    def __init__(self, *, region: str | None = DEFAULT_REGION, **kwargs: Any) -> None:
        kwargs["max_length"] = INPUT_MAX_LENGTH
        kwargs.setdefault("widget", forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}))
        super().__init__(**kwargs)
        self.region = region

    def to_python(self, value: Any) -> str:
        return phone_normalize(super().to_python(value), region=self.region)

    def prepare_value(self, value: Any) -> Any:
        # A stored E.164 value is shown the way the site writes it; what the person typed
        # (a redisplayed invalid entry) is shown unchanged.
        if isinstance(value, str) and value.startswith("+"):
            return phone_display(value, self.region)
        return value


class PhoneField(models.CharField[str, str]):
    """A phone number stored as E.164 ("" when there is none)."""

    default_validators = [validate_e164]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", E164_MAX_LENGTH)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def formfield(
        self,
        form_class: type[forms.Field] | None = None,
        choices_form_class: type[forms.ChoiceField] | None = None,
        **kwargs: Any,
    ) -> forms.Field | None:
        return super().formfield(
            form_class=form_class or PhoneFormField,
            choices_form_class=choices_form_class,
            **kwargs,
        )


def set_phone_region(form: forms.BaseForm, region: str | None, *names: str) -> None:
    """Read the form's phone fields in ``region`` (a site's country)."""
    for name in names:
        field = form.fields.get(name)
        if isinstance(field, PhoneFormField):
            field.region = region
