"""Where a patient stands against a weekly program minimum.

Two minimums are measured, each by the app that holds its data: hours of sessions
(``scheduling.selectors.hours.weekly_hours``) and recovery meetings
(``recovery.compliance.week_compliance``). They share this one status, kept here, below
both, so the dashboard and the pages read one set of values, words, symbols and colours.
"""

from __future__ import annotations

from django.db import models


class ComplianceStatus(models.TextChoices):
    MET = "met", "Met"
    # Hours of sessions: whether the week's minimum can still be reached.
    ON_TRACK = "on_track", "On track"
    AT_RISK = "at_risk", "At risk"
    BELOW = "below", "Below minimum"
    NO_MINIMUM = "no_minimum", "No minimum"
    # Meetings: whether enough are verified, or only logged.
    AWAITING = "awaiting", "Enough logged, waiting for verification"
    IN_PROGRESS = "in_progress", "Week in progress"
    SHORT = "short", "Short"
    NOT_REQUIRED = "not_required", "No meetings required"

    @property
    def symbol(self) -> str:
        # Colour is never the only signal: each status has a word and a symbol too.
        return _SYMBOLS[self]

    @property
    def colour(self) -> str:
        """The Bootstrap colour of the status's badge (``text-bg-<colour>``)."""
        return _COLOURS[self]


_SYMBOLS = {
    ComplianceStatus.MET: "✓",
    ComplianceStatus.ON_TRACK: "…",
    ComplianceStatus.AT_RISK: "!",
    ComplianceStatus.BELOW: "✗",
    ComplianceStatus.NO_MINIMUM: "–",
    ComplianceStatus.AWAITING: "…",
    ComplianceStatus.IN_PROGRESS: "…",
    ComplianceStatus.SHORT: "✗",
    ComplianceStatus.NOT_REQUIRED: "–",
}
_COLOURS = {
    ComplianceStatus.MET: "success",
    ComplianceStatus.ON_TRACK: "info",
    ComplianceStatus.AT_RISK: "warning",
    ComplianceStatus.BELOW: "danger",
    ComplianceStatus.NO_MINIMUM: "secondary",
    ComplianceStatus.AWAITING: "info",
    ComplianceStatus.IN_PROGRESS: "secondary",
    ComplianceStatus.SHORT: "danger",
    ComplianceStatus.NOT_REQUIRED: "light",
}
