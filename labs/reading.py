"""What one laboratory observation says, in drugtests' words: an analyte's outcome
(positive, negative, not tested) from its value, cut-off and flags, the status of the
reading, and a specimen validity finding from the laboratory's text. Pure functions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from drugtests.models import AnalyteOutcome, ResultStatus, Validity

from .hl7 import first_number

# OBX-11: final, corrected, preliminary apply; "X" (no result can be obtained) is a
# reading of "not tested"; the pending and retraction statuses wait for a person.
STATUSES = {
    "F": ResultStatus.FINAL,
    "C": ResultStatus.CORRECTED,
    "P": ResultStatus.PRELIMINARY,
    "X": ResultStatus.FINAL,
    "": ResultStatus.FINAL,  # required in 2.5.1, but a missing one means nothing else
}
PENDING_STATUSES = {"I", "R", "S", "N", "O", "U"}

_NOT_TESTED = ("NOT TESTED", "TEST NOT PERFORMED", "TNP", "QNS", "CANCELLED", "CANCELED")
_NEGATIVE = (
    "NEGATIVE",
    "NEG",
    "NOT DETECTED",
    "NONE DETECTED",
    "ND",
    "ABSENT",
    "NONREACTIVE",
    "NON REACTIVE",
)
_POSITIVE = ("POSITIVE", "POS", "DETECTED", "PRESENT", "REACTIVE")
_POSITIVE_FLAGS = {"A", "AA", "H", "HH", "POS", ">"}
_NEGATIVE_FLAGS = {"N", "NEG"}
# Strongest first: a report naming more than one finding is read as the worst.
_VALIDITY_WORDS = (
    ("REJECT", Validity.REJECTED),
    ("SUBSTITUT", Validity.SUBSTITUTED),
    ("ADULTERA", Validity.ADULTERATED),
    ("INVALID", Validity.INVALID),
    ("DILUTE", Validity.DILUTE),
    ("VALID", Validity.VALID),
    ("ACCEPTABLE", Validity.VALID),
)
_SEVERITY: list[str] = [str(v) for _, v in _VALIDITY_WORDS]
NG_ML_UNITS = {"ng/ml", "ug/l", "µg/l", "mcg/l"}


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^A-Z0-9]+", " ", text.upper()).split())


def _starts(text: str, phrases: tuple[str, ...]) -> bool:
    return any(text == p or text.startswith(p + " ") for p in phrases)


def text_outcome(*values: str) -> str | None:
    """Positive, negative or not tested from the value's words, or None."""
    for value in values:
        words = _words(value)
        if not words:
            continue
        # Negative phrases first: "NOT DETECTED" ends in a positive word.
        for phrases, outcome in (
            (_NOT_TESTED, AnalyteOutcome.NOT_TESTED),
            (_NEGATIVE, AnalyteOutcome.NEGATIVE),
            (_POSITIVE, AnalyteOutcome.POSITIVE),
        ):
            if _starts(words, phrases):
                return outcome
    return None


def flag_outcome(flags: list[str]) -> str | None:
    upper = {f.strip().upper() for f in flags if f.strip()}
    if upper & _POSITIVE_FLAGS:
        return AnalyteOutcome.POSITIVE
    if upper & _NEGATIVE_FLAGS:
        return AnalyteOutcome.NEGATIVE
    return None


_NUMERIC = re.compile(r"^(<=|>=|<|>|=)?\s*([-+]?\d+(?:\.\d+)?)$")


def split_numeric(value: str) -> tuple[str, Decimal | None]:
    """A stored numeric value ("352", "<100", ">=2000") as (comparator, number)."""
    m = _NUMERIC.match(value.strip().replace(",", ""))
    if m is None:
        return "", None
    try:
        return m.group(1) or "", Decimal(m.group(2))
    except InvalidOperation:
        return "", None


def is_ng_ml(units: str) -> bool:
    return units.strip().casefold() in NG_ML_UNITS


@dataclass(frozen=True)
class Verdict:
    outcome: str | None
    cutoff: Decimal | None = None
    # Why there is no outcome: "cutoff" (a concentration without one: the director can
    # give the code a default) or "unreadable" (the laboratory must resend).
    problem: str = ""


def numeric_outcome(
    number: Decimal,
    comparator: str,
    *,
    reference_range: str,
    units: str,
    default_cutoff: Decimal | None,
    flags: list[str],
) -> Verdict:
    """A concentration against its cut-off: at or above it is positive (the federal
    rule). The cut-off is the message's own (its reference range), else the code's
    default when the units are ng/mL (or not given); with neither, the flags decide."""
    cutoff = cutoff_from_range(reference_range)
    if cutoff is None and default_cutoff is not None and (not units or is_ng_ml(units)):
        cutoff = default_cutoff
    if cutoff is None:
        flagged = flag_outcome(flags)
        if flagged is None:
            return Verdict(None, problem="cutoff")
        return Verdict(flagged)
    if comparator in ("<", "<="):
        # "<100" is below 100: negative under a cut-off of 100 or more, unknown under less.
        if number > cutoff:
            return Verdict(None, cutoff, problem="unreadable")
        positive = False
    elif comparator in (">", ">="):
        # ">2000" is above 2000: positive at a cut-off of 2000 or less, unknown above.
        if number < cutoff:
            return Verdict(None, cutoff, problem="unreadable")
        positive = True
    else:
        positive = number >= cutoff
    return Verdict(AnalyteOutcome.POSITIVE if positive else AnalyteOutcome.NEGATIVE, cutoff)


_RANGE = re.compile(r"^\s*\d+(?:\.\d+)?\s*-\s*(\d+(?:\.\d+)?)")


def cutoff_from_range(reference_range: str) -> Decimal | None:
    """The cut-off a reference range states: "<100", "100", "cutoff 2000 ng/mL", or the
    top of a range such as "0-99"."""
    m = _RANGE.match(reference_range)
    if m:
        return first_number(m.group(1))
    return first_number(reference_range)


def validity_from_text(*texts: str) -> str:
    """The strongest validity finding the texts name ('' when none)."""
    found = ""
    for text in texts:
        upper = text.upper()
        for word, validity in _VALIDITY_WORDS:
            hit = _valid_word(upper) if word == "VALID" else word in upper
            if hit:
                found = worse(found, validity)
                break
    return found


def _valid_word(upper: str) -> bool:
    # "VALID" as a word of its own, not inside "INVALID".
    return re.search(r"(?<![A-Z])VALID", upper) is not None


def worse(a: str, b: str) -> str:
    """The more serious of two validity findings ('' is none)."""
    if not a:
        return b
    if not b:
        return a
    return a if _SEVERITY.index(a) <= _SEVERITY.index(b) else b


def ng_ml(number: Decimal | None, units: str) -> Decimal | None:
    """The concentration as drugtests stores it (ng/mL, one decimal), if it is one."""
    if number is None or number < 0 or not is_ng_ml(units):
        return None
    return fit(number, places=1, digits=9)


def fit(number: Decimal | None, *, places: int, digits: int) -> Decimal | None:
    """``number`` rounded to a decimal column's places, or None if it does not fit."""
    if number is None:
        return None
    try:
        rounded = number.quantize(Decimal(1).scaleb(-places))
    except InvalidOperation:
        return None
    return rounded if abs(rounded) < Decimal(10) ** (digits - places) else None
