"""Portal "My schedule" and the personal iCal feed."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from scheduling.models import CalendarFeed
from scheduling.services.bookings import session_cancel
from scheduling.services.calendar_feed import calendar_feed_issue, calendar_feed_revoke

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")


@pytest.fixture
def upcoming(track, make_session):
    """Three evening sessions in the next days (18:00 New York), the last one cancelled."""
    today = timezone.localdate(timezone.now(), NY)
    sessions = [make_session(track, today + timedelta(days=d)) for d in (1, 2, 3)]
    session_cancel(actor=None, session=sessions[2], reason="Snow storm")
    return sessions


@pytest.fixture
def member(make_patient, track):
    return make_patient(first="Robin", last="Member", track=track, portal=True)


def test_portal_schedule_shows_local_times_and_cancellations(client, member, upcoming):
    client.force_login(member.user)
    response = client.get(reverse("scheduling:portal_schedule"))
    assert response.status_code == 200
    text = response.content.decode()
    assert text.count("6:00 PM") == 3
    assert "Cancelled" in text and "Snow storm" in text
    assert "IOP Evening" not in text  # no program name on the portal schedule


def test_portal_schedule_hides_other_tracks(client, patient, upcoming):
    client.force_login(patient.user)  # admitted without a track
    response = client.get(reverse("scheduling:portal_schedule"))
    assert "6:00 PM" not in response.content.decode()


def test_feed_parses_with_icalendar_at_the_right_instants(client, member, upcoming, site):
    site.address = "12 Main St"
    site.save()
    feed = calendar_feed_issue(patient=member)
    client.logout()
    response = client.get(reverse("scheduling:ical_feed", args=[feed.token]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    cal = Calendar.from_ical(response.content)
    events = sorted(cal.walk("VEVENT"), key=lambda e: e.decoded("dtstart"))
    assert len(events) == 3
    starts = [e.decoded("dtstart") for e in events]
    assert starts == [s.starts_at for s in upcoming]
    assert {s.astimezone(NY).hour for s in starts} == {18}
    assert [str(e["status"]) for e in events] == ["CONFIRMED", "CONFIRMED", "CANCELLED"]
    assert str(events[0]["summary"]) == "Group session"
    assert str(events[0]["location"]) == "12 Main St"


def test_feed_text_has_no_diagnosis_or_program_name(client, member, upcoming, track):
    feed = calendar_feed_issue(patient=member)
    body = client.get(reverse("scheduling:ical_feed", args=[feed.token])).content.decode()
    for secret in ("IOP", "Evening", "opioid", "Relapse", member.legal_last_name, "2.1"):
        assert secret not in body


def test_revoked_feed_is_gone(client, member, upcoming):
    feed = calendar_feed_issue(patient=member)
    calendar_feed_revoke(patient=member)
    assert client.get(reverse("scheduling:ical_feed", args=[feed.token])).status_code == 404


def test_regenerating_the_feed_kills_the_old_url(client, member):
    client.force_login(member.user)
    client.post(reverse("scheduling:portal_feed"), {"action": "issue"})
    old = CalendarFeed.objects.get(revoked_at__isnull=True)
    client.post(reverse("scheduling:portal_feed"), {"action": "regenerate"})
    new = CalendarFeed.objects.get(revoked_at__isnull=True)
    assert new.token != old.token
    client.logout()
    assert client.get(reverse("scheduling:ical_feed", args=[old.token])).status_code == 404
    assert client.get(reverse("scheduling:ical_feed", args=[new.token])).status_code == 200


def test_revoke_from_the_portal(client, member):
    client.force_login(member.user)
    client.post(reverse("scheduling:portal_feed"), {"action": "issue"})
    client.post(reverse("scheduling:portal_feed"), {"action": "revoke"})
    assert not CalendarFeed.objects.filter(revoked_at__isnull=True).exists()


def test_unknown_token_is_404(client):
    assert client.get(reverse("scheduling:ical_feed", args=["nope"])).status_code == 404


def test_portal_feed_only_manages_the_logged_in_patients_feed(client, member, other_patient):
    client.force_login(other_patient.user)
    client.post(reverse("scheduling:portal_feed"), {"action": "issue", "patient": member.pk})
    assert CalendarFeed.objects.get().patient == other_patient
