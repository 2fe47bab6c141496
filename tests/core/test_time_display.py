"""Times are read and shown on a site's clock, one way everywhere (issue: time is right
everywhere). Written against the bugs staff found: an audit trail in UTC, five formats,
and typed times read in the wrong zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from core import audit
from core.formats import format_day, format_time, format_when
from core.models import AuditEvent
from recovery.forms import MeetingForm
from recovery.models import Meeting

NY = ZoneInfo("America/New_York")
LA = ZoneInfo("America/Los_Angeles")
EVENING = datetime(2026, 11, 18, 23, 0, tzinfo=UTC)  # 6:00 PM in New York, 3:00 PM in LA


def _yesterday_evening(today: date) -> tuple[datetime, str]:
    """6:00 PM in New York yesterday (so the audit list, which ends now, shows it)."""
    instant = datetime.combine(today - timedelta(days=1), time(18), tzinfo=NY)
    return instant, format_day(instant.date())


def _event_at(instant: datetime) -> AuditEvent:
    audit.record(action="test.marker", at=instant)
    return AuditEvent.objects.get(action="test.marker")


def test_one_format_for_days_times_and_instants():
    assert format_day(date(2026, 11, 25)) == "Wed Nov 25, 2026"
    assert format_day(date(2026, 11, 25), year=False) == "Wed Nov 25"
    assert format_time(time(18, 0), h24=False) == "6:00 PM"
    assert format_time(time(18, 0), h24=True) == "18:00"
    assert format_when(EVENING, tz=NY, h24=False) == "Wed Nov 18, 2026, 6:00 PM"


def test_audit_trail_shows_the_viewers_site_time_not_utc(client, director, site, today):
    instant, day = _yesterday_evening(today)
    _event_at(instant)
    client.force_login(director)
    page = client.get(reverse("privacy:audit")).content.decode()
    assert f"{day}, 6:00 PM" in page
    assert f"{instant.astimezone(UTC):%H:%M}" not in page


def test_staff_of_a_west_coast_site_read_west_coast_times(client, make_staff, other_site, today):
    west_director = make_staff("director_west", "director", sites=[other_site], is_staff=True)
    instant, day = _yesterday_evening(today)
    _event_at(instant)
    client.force_login(west_director)
    page = client.get(reverse("privacy:audit")).content.decode()
    assert f"{day}, 3:00 PM" in page


def test_a_site_on_the_24_hour_clock_shows_18_00(client, director, site, today):
    site.clock_24h = True
    site.save(update_fields=["clock_24h"])
    instant, day = _yesterday_evening(today)
    _event_at(instant)
    client.force_login(director)
    page = client.get(reverse("privacy:audit")).content.decode()
    assert f"{day}, 18:00" in page
    assert "6:00 PM" not in page


@pytest.mark.parametrize(
    ("typed", "stored_utc"),
    [
        # Fall back (Nov 1 2026): 01:30 happens twice; the first (EDT, UTC-4) is taken.
        ("2026-11-01T01:30", datetime(2026, 11, 1, 5, 30, tzinfo=UTC)),
        ("2026-11-01T03:30", datetime(2026, 11, 1, 8, 30, tzinfo=UTC)),
        # Spring forward (Mar 8 2026): just before and just after the gap.
        ("2026-03-08T01:30", datetime(2026, 3, 8, 6, 30, tzinfo=UTC)),
        ("2026-03-08T03:30", datetime(2026, 3, 8, 7, 30, tzinfo=UTC)),
    ],
)
def test_typed_meeting_time_is_read_on_the_sites_clock_across_dst(site, typed, stored_utc):
    form = MeetingForm(
        {"held_at": typed, "fellowship": "aa", "name": "Big Book", "mode": "online"}, site=site
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["held_at"].astimezone(UTC) == stored_utc
    # ... and shown back as typed.
    shown = MeetingForm(initial={"held_at": stored_utc}, site=site)["held_at"].value()
    assert shown.strftime("%Y-%m-%dT%H:%M") == typed


def test_a_time_inside_the_spring_forward_gap_is_refused_with_a_reason(site):
    form = MeetingForm(
        {"held_at": "2026-03-08T02:30", "fellowship": "aa", "name": "x", "mode": "online"},
        site=site,
    )
    assert not form.is_valid()
    assert "2:30 AM on Sun Mar 8, 2026 did not happen" in str(form.errors["held_at"])


def test_year_one_is_refused_on_the_form_not_a_server_error(site):
    form = MeetingForm(
        {"held_at": "0001-01-01T00:00", "fellowship": "aa", "name": "x", "mode": "online"},
        site=site,
    )
    assert not form.is_valid()
    assert "between 1900 and 2199" in str(form.errors["held_at"])


@pytest.mark.date_sensitive
def test_director_in_california_logs_a_new_york_patients_meeting_in_new_york_time(
    client, make_staff, other_site, site, patient, test_now
):
    west_director = make_staff("director_west", "director", sites=[other_site, site])
    west_director.staff.sites.set([other_site, site])
    held = (test_now - timedelta(hours=3)).astimezone(NY).replace(second=0, microsecond=0)
    client.force_login(west_director)
    client.post(
        reverse("recovery:patient", args=[patient.pk]),
        {
            "action": "meeting",
            "held_at": held.strftime("%Y-%m-%dT%H:%M"),
            "fellowship": "na",
            "name": "Noon group",
            "mode": "online",
        },
    )
    assert Meeting.objects.get(patient=patient).held_at == held.astimezone(UTC)
