"""A patient's personal iCalendar feed (RFC 5545), built with the ``icalendar`` package.

Only what a calendar needs: neutral titles ("Group session", "Appointment"), times,
the site's address, and cancellations as STATUS:CANCELLED. No diagnosis, program
name, level of care, track name or topic: the feed is readable by anyone with the URL
and ends up in third-party calendar services.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from icalendar import Calendar, Event

from core.clock import site_today
from patients.models import Patient

from .models import SessionStatus
from .selectors.sessions import patient_sessions

PAST_DAYS = 14
FUTURE_DAYS = 56


def patient_calendar(patient: Patient, *, now: datetime) -> bytes:
    site = patient.site
    today = site_today(site, now)
    sessions = patient_sessions(
        patient, today - timedelta(days=PAST_DAYS), today + timedelta(days=FUTURE_DAYS)
    )
    cal = Calendar()
    cal.add("prodid", "-//Stepwise//Schedule//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", "My schedule")
    cal.add("x-wr-timezone", site.time_zone)
    # Ask subscribing clients to refresh hourly, so cancellations reach the phone.
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    for s in sessions:
        event = Event()
        event.add("uid", f"session-{s.pk}@stepwise")
        event.add("dtstamp", now.astimezone(UTC))
        # UTC instants: every client places them right without a VTIMEZONE block.
        event.add("dtstart", s.starts_at.astimezone(UTC))
        event.add("dtend", s.ends_at.astimezone(UTC))
        event.add("summary", s.neutral_title)
        if s.video_link:
            event.add("location", "Video session")
            event.add("url", s.video_link)
        elif site.address:
            event.add("location", site.address)
        if s.status == SessionStatus.SCHEDULED:
            event.add("status", "CONFIRMED")
        else:
            event.add("status", "CANCELLED")
            event.add("description", "Cancelled")
        event.add("sequence", 1 if (s.is_moved or s.status != SessionStatus.SCHEDULED) else 0)
        cal.add_component(event)
    data: bytes = cal.to_ical()
    return data
