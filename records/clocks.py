"""When clinical documentation is due, on the site's calendar.

- A note is due ``note_due_business_days`` business days after its service (default 3):
  business days are the site's open weekdays (``SiteSchedule.open_days``) that are not a
  closed holiday. A crisis note is due the next calendar day (within 24 hours). A note
  signed after the end of its due day (site-local) is a late entry.
- A plan: the initial plan is due ``initial_plan_days`` after admission; then a review is
  due ``review_days(level)`` after the last signed version, and a change of level of care
  brings the review forward to ``level_change_review_days`` after the change, if sooner.

All of it is computed from dates, not stored, except a note's ``due_on`` (fixed when the
note is started, from the calendar as it stood then).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from core.models import Site
from scheduling.models import Holiday, HolidayStatus, SiteSchedule

from .models import RecordSettings, ServiceType

# Longer than any run of closed days a site could configure (a year of holidays).
_SEARCH_DAYS = 400


def business_days_after(site: Site, start: date, count: int) -> date:
    """The ``count``-th business day after ``start`` (``start`` itself not counted)."""
    open_weekdays = SiteSchedule.for_site(site).open_weekdays or {0, 1, 2, 3, 4}
    closed = set(
        Holiday.objects.filter(
            site=site,
            status=HolidayStatus.CLOSED,
            date__gt=start,
            date__lte=start + timedelta(days=_SEARCH_DAYS),
        ).values_list("date", flat=True)
    )
    day, found = start, 0
    while found < count:
        day += timedelta(days=1)
        if day.weekday() in open_weekdays and day not in closed:
            found += 1
        if day > start + timedelta(days=_SEARCH_DAYS):
            break
    return day


def note_due_on(
    site: Site, service_date: date, service_type: str, rules: RecordSettings | None = None
) -> date:
    if service_type == ServiceType.CRISIS:
        return service_date + timedelta(days=1)
    rules = rules or RecordSettings.for_site(site)
    return business_days_after(site, service_date, rules.note_due_business_days)


class PlanDueReason:
    INITIAL = "Initial plan"
    REVIEW = "Scheduled review"
    LEVEL_CHANGE = "Review after a change of level of care"


@dataclass(frozen=True)
class PlanDue:
    due_on: date
    reason: str

    def is_overdue(self, today: date) -> bool:
        return today > self.due_on

    def days_left(self, today: date) -> int:
        return (self.due_on - today).days


def plan_due(
    *,
    rules: RecordSettings,
    level: str,
    admission_date: date,
    last_signed_on: date | None,
    last_level_change_on: date | None,
) -> PlanDue:
    """When the next plan (or plan review) is due, and why.

    ``last_signed_on`` is the site-local date the latest version was signed;
    ``last_level_change_on`` the effective date of the latest level-of-care change.
    """
    if last_signed_on is None:
        return PlanDue(
            admission_date + timedelta(days=rules.initial_plan_days), PlanDueReason.INITIAL
        )
    due = PlanDue(last_signed_on + timedelta(days=rules.review_days(level)), PlanDueReason.REVIEW)
    if last_level_change_on is not None and last_level_change_on >= last_signed_on:
        after_change = last_level_change_on + timedelta(days=rules.level_change_review_days)
        if after_change < due.due_on:
            return PlanDue(after_change, PlanDueReason.LEVEL_CHANGE)
    return due
