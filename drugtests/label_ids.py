"""The ids printed on specimen labels before collection: "SW-", the selection's number
and a check digit, e.g. ``SW-0001234-4``. One per selection, so the label printed in the
morning for a test is the id its specimen is recorded under; typed by hand instead of
scanned, a wrong digit fails the check."""

from __future__ import annotations

import re

_LABEL_ID = re.compile(r"SW-(\d{7,})-(\d)")


def _check_digit(digits: str) -> str:
    """Luhn's check digit: catches any one wrong digit and most swapped pairs."""
    total = 0
    for i, char in enumerate(reversed(digits)):
        n = int(char) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return str((10 - total % 10) % 10)


def label_id(selection_pk: int) -> str:
    """The id printed for a selection before collection, e.g. ``SW-0001234-4``."""
    digits = f"{selection_pk:07d}"
    return f"SW-{digits}-{_check_digit(digits)}"


def looks_like_label_id(value: str) -> bool:
    return _LABEL_ID.fullmatch(value.strip()) is not None


def selection_pk_of(value: str) -> int | None:
    """The selection a label id was printed for; None if it is not a label id or its
    check digit is wrong."""
    match = _LABEL_ID.fullmatch(value.strip())
    if match is None or _check_digit(match[1]) != match[2]:
        return None
    return int(match[1])
