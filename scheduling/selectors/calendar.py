"""A site's holidays and a patient's calendar feed, as the pages read them."""

from __future__ import annotations

from core.models import Site
from patients.models import Patient

from ..models import CalendarFeed, Holiday


def holidays_in_year(site: Site, year: int) -> list[Holiday]:
    return list(Holiday.objects.filter(site=site, date__year=year).order_by("date"))


def holiday_years(site: Site, also: int) -> list[int]:
    return sorted(
        {d.year for d in Holiday.objects.filter(site=site).dates("date", "year")} | {also}
    )


def holiday_of_site(site: Site, pk: int) -> Holiday | None:
    return Holiday.objects.filter(site=site, pk=pk).first()


def calendar_feed_active(patient: Patient) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(patient=patient, revoked_at__isnull=True).first()


def calendar_feed_for_token(token: str) -> CalendarFeed | None:
    return (
        CalendarFeed.objects.filter(token=token, revoked_at__isnull=True)
        .select_related("patient__site")
        .first()
    )
