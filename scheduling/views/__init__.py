"""Scheduling's screens. Thin: the reads are in ``selectors``, the writes in
``services``; the form pages are ``ServiceFormView`` subclasses. The URLconf names
the views through this package."""

from .attendance import (
    attendance,
    attendance_all_present,
    attendance_make_up,
    attendance_mark,
    session_cancel,
    session_move,
)
from .portal import ical_feed, portal_feed, portal_schedule
from .staff import (
    billing,
    book_individual,
    calendar,
    compliance,
    holiday_change,
    holidays,
    my_sessions,
    series_create,
    series_edit,
    track_detail,
)

__all__ = [
    "attendance",
    "attendance_all_present",
    "attendance_make_up",
    "attendance_mark",
    "billing",
    "book_individual",
    "calendar",
    "compliance",
    "holiday_change",
    "holidays",
    "ical_feed",
    "my_sessions",
    "portal_feed",
    "portal_schedule",
    "series_create",
    "series_edit",
    "session_cancel",
    "session_move",
    "track_detail",
]
