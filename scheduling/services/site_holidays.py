"""A site's holidays: the public calendar seeded yearly, days the director adds,
removes or restores, and the sessions each closed day cancels."""

from __future__ import annotations

import logging
from datetime import date, datetime

import holidays
from django.core.exceptions import ValidationError
from django.db import transaction

from core import audit, clock
from core.clock import site_today
from core.formats import format_day
from core.models import Site, User
from core.validators import require_dates_in_range

from ..models import Holiday, HolidaySource, HolidayStatus, Session, SessionStatus
from .bookings import session_cancel

logger = logging.getLogger(__name__)


# Public holidays are seeded for the site's current year and this many after it, so the
# weeks that sessions are materialized ahead (at most 26) are always covered.
HOLIDAY_YEARS_AHEAD = 2


def holiday_bounds(site: Site, now: datetime | None = None) -> tuple[date, date]:
    """The days a holiday may be added, removed or restored: from today to the end of
    the seeded years. Past days stay as they were: their sessions were held or not."""
    today = site_today(site, now)
    return today, date(today.year + HOLIDAY_YEARS_AHEAD, 12, 31)


def _public_holidays(site: Site, years: list[int]) -> dict[date, str]:
    country = (site.country or "").strip().upper()
    subdivision = (site.subdivision or "").strip().upper() or None
    try:
        found = holidays.country_holidays(country, subdiv=subdivision, years=years)
    except NotImplementedError:
        if subdivision is None:
            logger.warning("holidays: no public calendar for country %r (%s)", country, site)
            return {}
        # A mistyped state must not leave the site without its national holidays.
        logger.warning("holidays: unknown subdivision %r of %r (%s)", subdivision, country, site)
        return _public_holidays_of_country(country, years, site)
    return {day: name[:80] for day, name in found.items()}


def _public_holidays_of_country(country: str, years: list[int], site: Site) -> dict[date, str]:
    try:
        found = holidays.country_holidays(country, years=years)
    except NotImplementedError:
        logger.warning("holidays: no public calendar for country %r (%s)", country, site)
        return {}
    return {day: name[:80] for day, name in found.items()}


def _cancel_sessions_on(
    *, actor: User | None, site: Site, days: dict[date, str], now: datetime
) -> int:
    """Cancel the sessions of ``days`` (day -> the holiday's name) that have not started,
    one by one through ``session_cancel``: its audit row, and its save tells
    notifications to re-plan the patients' reminders. A session already under way or held
    keeps its attendance. One query for all the days: a new site's seeding passes about
    thirty, and a site is created in nearly every test."""
    if not days:
        return 0
    sessions = Session.objects.filter(
        site=site,
        local_date__in=list(days),
        status=SessionStatus.SCHEDULED,
        starts_at__gt=now,
        attendance__isnull=True,
    ).order_by("local_date", "starts_at", "pk")
    count = 0
    for session in sessions:
        reason = f"Holiday: {days[session.local_date]}"
        session_cancel(actor=actor, session=session, reason=reason, now=now)
        count += 1
    return count


def _lock_site(site: Site) -> None:
    # Seeding, adding and restoring a site's holidays are serialised per site, so the
    # count of days added (and their audit row) is exact under concurrent runs.
    Site.objects.select_for_update().filter(pk=site.pk).exists()


@transaction.atomic
def holidays_seed(
    *,
    site: Site,
    actor: User | None = None,
    years: list[int] | None = None,
    now: datetime | None = None,
) -> int:
    """Add the site's public holidays (country and state) for ``years`` (default: the
    site's current year and the next two). Returns the number of days added.

    Idempotent: a day the site already has, closed or removed by the director, is left
    alone, so a removed day never comes back. Sessions already scheduled on a new day
    are cancelled as if the director had added it.
    """
    now = clock.now(now)
    today = site_today(site, now)
    years = sorted(set(years or range(today.year, today.year + HOLIDAY_YEARS_AHEAD + 1)))
    public = _public_holidays(site, years)
    if not public:
        return 0
    _lock_site(site)
    known = set(
        Holiday.objects.filter(site=site, date__in=list(public)).values_list("date", flat=True)
    )
    new = [
        Holiday(
            site=site,
            date=day,
            name=name,
            status=HolidayStatus.CLOSED,
            source=HolidaySource.PUBLIC,
            created_at=now,
            updated_at=now,
        )
        for day, name in sorted(public.items())
        if day not in known
    ]
    if not new:
        return 0
    Holiday.objects.bulk_create(new)
    ahead = {h.date: h.name for h in new if h.date >= today}
    cancelled = _cancel_sessions_on(actor=actor, site=site, days=ahead, now=now)
    audit.record(
        action="holiday.seeded",
        actor=actor,
        site_id=site.pk,
        detail={
            "years": years,
            "added": [h.date.isoformat() for h in new],
            "cancelled_sessions": cancelled,
        },
    )
    return len(new)


def holidays_top_up_all(*, now: datetime | None = None) -> int:
    """Seed every active site's coming years (the daily beat job); extra runs add nothing."""
    total = 0
    for site in Site.objects.filter(is_active=True).order_by("pk"):
        # Durable (and outside the try, so misuse is not logged away as a site's failure):
        # each site's days are committed, and its site lock released, before the next's.
        with transaction.atomic(durable=True):
            try:
                total += holidays_seed(site=site, now=now)
            except Exception:
                # One site's failure must not keep the other sites' calendars from filling.
                logger.exception("holidays: top-up failed for site %s", site.pk)
    return total


def _validate_holiday_day(site: Site, day: date, now: datetime) -> None:
    require_dates_in_range(date=day)
    first, last = holiday_bounds(site, now)
    if not first <= day <= last:
        raise ValidationError(
            {"date": f"Choose a day from {format_day(first)} to {format_day(last)}."}
        )


def holiday_check(*, site: Site, day: date, now: datetime | None = None) -> None:
    """Refuse a day ``holiday_add`` would refuse, for a form to show before it saves
    (the admin's add form calls it; a refusal must be a message, never a server error)."""
    _validate_holiday_day(site, day, clock.now(now))
    existing = Holiday.objects.filter(site=site, date=day, status=HolidayStatus.CLOSED).first()
    if existing is not None:
        raise ValidationError({"date": f"That day is already a holiday ({existing.name})."})


@transaction.atomic
def holiday_add(
    *, actor: User | None, site: Site, day: date, name: str, now: datetime | None = None
) -> Holiday:
    """Close the site on ``day``: its sessions not yet started are cancelled through
    ``session_cancel`` with the reason "Holiday: <name>". A day the director removed
    earlier is closed again under the new name."""
    now = clock.now(now)
    name = " ".join(name.split())
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = "Name the holiday."
    elif len(name) > 80:
        errors["name"] = "Keep the name to 80 characters."
    try:
        _validate_holiday_day(site, day, now)
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    _lock_site(site)
    holiday = Holiday.objects.filter(site=site, date=day).first()
    if holiday is not None and holiday.is_closed:
        raise ValidationError({"date": f"That day is already a holiday ({holiday.name})."})
    if holiday is None:
        holiday = Holiday.objects.create(
            site=site,
            date=day,
            name=name,
            source=HolidaySource.SITE,
            created_at=now,
            updated_at=now,
        )
    else:
        holiday.name, holiday.status, holiday.updated_at = name, HolidayStatus.CLOSED, now
        holiday.save(update_fields=["name", "status", "updated_at"])
    cancelled = _cancel_sessions_on(actor=actor, site=site, days={day: name}, now=now)
    audit.record(
        action="holiday.added",
        actor=actor,
        site_id=site.pk,
        obj=holiday,
        detail={"date": day.isoformat(), "name": name, "cancelled_sessions": cancelled},
    )
    return holiday


@transaction.atomic
def holiday_remove(*, actor: User | None, holiday: Holiday, now: datetime | None = None) -> Holiday:
    """Open the site on a holiday (kept as a row, so the yearly top-up leaves it open).

    Sessions already cancelled for it stay cancelled: their patients were told, and a
    session brought back silently would be missed. Staff re-book what they need."""
    now = clock.now(now)
    holiday = Holiday.objects.select_for_update().select_related("site").get(pk=holiday.pk)
    if not holiday.is_closed:
        raise ValidationError("The site is already open that day.")
    _validate_holiday_day(holiday.site, holiday.date, now)
    holiday.status, holiday.updated_at = HolidayStatus.OPEN, now
    holiday.save(update_fields=["status", "updated_at"])
    audit.record(
        action="holiday.removed",
        actor=actor,
        site_id=holiday.site_id,
        obj=holiday,
        detail={"date": holiday.date.isoformat(), "name": holiday.name},
    )
    return holiday


@transaction.atomic
def holiday_restore(
    *, actor: User | None, holiday: Holiday, now: datetime | None = None
) -> Holiday:
    """Close the site again on a removed holiday; its sessions are cancelled as on add."""
    now = clock.now(now)
    holiday = Holiday.objects.select_for_update().select_related("site").get(pk=holiday.pk)
    if holiday.is_closed:
        raise ValidationError("That day is already a holiday.")
    _validate_holiday_day(holiday.site, holiday.date, now)
    holiday.status, holiday.updated_at = HolidayStatus.CLOSED, now
    holiday.save(update_fields=["status", "updated_at"])
    cancelled = _cancel_sessions_on(
        actor=actor, site=holiday.site, days={holiday.date: holiday.name}, now=now
    )
    audit.record(
        action="holiday.restored",
        actor=actor,
        site_id=holiday.site_id,
        obj=holiday,
        detail={
            "date": holiday.date.isoformat(),
            "name": holiday.name,
            "cancelled_sessions": cancelled,
        },
    )
    return holiday
