"""The bounds every typed value keeps: dates inside 1900-2199 and text without control
characters. Forms apply them through ``core.forms.InputGuard``; services call the
``require_*`` functions, since tasks and commands reach them without a form.

Why these bounds: year 1 or 9999 is a slip of the keyboard, never a clinic's date, and it
breaks things far from where it was typed (``date + timedelta`` overflows, a year-1
instant cannot be shown in a zone west of UTC). Control characters are invisible on the
page, PostgreSQL refuses NUL outright, and an escape sequence in a note reaches
terminals and CSV readers as it was typed.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

MIN_YEAR, MAX_YEAR = 1900, 2199
EARLIEST = date(MIN_YEAR, 1, 1)
LATEST = date(MAX_YEAR, 12, 31)
# How far ahead a booking, a move or a homework due date may be set: a year covers every
# plan staff make, and anything further is a typing slip.
MAX_DAYS_AHEAD = 366

# Lazy: the message is read in the language of the page that shows it.
OUT_OF_RANGE = format_lazy(_("Enter a date between {} and {}."), MIN_YEAR, MAX_YEAR)
CONTROL_MESSAGE = _(
    "This text contains a character that is not allowed (an invisible control "
    "character). Retype it, or paste it as plain text."
)
# C0 controls except tab, line feed and carriage return; DEL; the C1 controls.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def date_in_range(value: date) -> bool:
    """Whether a date (or a datetime's own date) is inside the supported years."""
    return MIN_YEAR <= value.year <= MAX_YEAR


def validate_date_in_range(value: date | datetime | None) -> None:
    """A form field validator: refuses a date outside 1900-2199."""
    if value is not None and not date_in_range(value):
        raise ValidationError(OUT_OF_RANGE, code="date_out_of_range")


def has_control_characters(value: str) -> bool:
    return bool(_CONTROL.search(value))


def validate_no_control_characters(value: object) -> None:
    """A form field validator: refuses NUL and other control characters (tab, line feed
    and carriage return are text)."""
    if isinstance(value, str) and has_control_characters(value):
        raise ValidationError(CONTROL_MESSAGE, code="control_characters")


def require_dates_in_range(**values: date | datetime | None) -> None:
    """For services: refuse every named date outside 1900-2199, each on its own name."""
    errors = {
        name: OUT_OF_RANGE
        for name, value in values.items()
        if value is not None and not date_in_range(value)
    }
    if errors:
        raise ValidationError(errors)


def require_plain_text(**values: str | None) -> None:
    """For services: refuse every named text holding a control character."""
    errors = {
        name: CONTROL_MESSAGE
        for name, value in values.items()
        if value and has_control_characters(value)
    }
    if errors:
        raise ValidationError(errors)
