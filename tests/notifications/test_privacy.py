"""42 CFR Part 2: no message text reveals the program, a diagnosis, a substance or a
test result. Every template of every kind on every channel is rendered with a context
full of tempting values (a site called "... Recovery Center", a patient on Vivitrol)
and checked against the denylist; the sender refuses a text that fails."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from django.core import mail
from django.utils import timezone

from notifications import messages, privacy, sending
from notifications.models import Channel, Kind, Notification, NotificationPreference, Status
from tests.conftest import SCENARIO_NOW

pytestmark = [pytest.mark.frozen(SCENARIO_NOW), pytest.mark.django_db]

# The issue's list (kept here, apart from the code's own list, so the test does not
# just agree with the code).
DENYLIST = [
    "addiction",
    "addict",
    "rehab",
    "recovery center",
    "recovery",
    "treatment",
    "heroin",
    "opioid",
    "opiate",
    "fentanyl",
    "drug",
    "methadone",
    "buprenorphine",
    "suboxone",
    "sublocade",
    "naltrexone",
    "vivitrol",
    "alcohol",
    "urine",
    "test result",
    "positive",
    "negative",
    "substance",
    "sober",
    "relapse",
    "detox",
    "specimen",
    "intensive outpatient",
]
ACRONYMS = ["IOP", "PHP", "AA", "NA", "SUD", "MAT"]
PAYLOAD = {
    "at": datetime(2026, 12, 3, 23, 0, tzinfo=UTC).isoformat(),
    "deadline": datetime(2026, 12, 3, 22, 0, tzinfo=UTC).isoformat(),
    "due_date": date(2026, 12, 6).isoformat(),
    "day": date(2026, 12, 3).isoformat(),
    "logged": 1,
    "required": 3,
}


def denied(text: str) -> list[str]:
    lower = text.lower()
    found = [w for w in DENYLIST if re.search(r"\b" + re.escape(w), lower)]
    found += [a for a in ACRONYMS if re.search(r"\b" + a + r"\b", text)]
    return found


@pytest.fixture
def tempting(patient, site):
    site.name = "Riverside Recovery Center"
    site.save()
    patient.site = site
    patient.primary_substance = "fentanyl"
    patient.email = "robin@example.org"
    return patient


def test_code_denylist_covers_the_issue_list():
    for word in DENYLIST:
        assert privacy.violations(word), word
    for acronym in ACRONYMS:
        assert privacy.violations(acronym), acronym


@pytest.mark.parametrize("kind", Kind.values)
@pytest.mark.parametrize("channel", Channel.values)
def test_every_template_of_every_kind_passes_the_denylist(kind, channel, tempting):
    row = Notification(
        kind=kind, channel=channel, recipient=tempting.user, patient=tempting, payload=PAYLOAD
    )
    subject, body = messages.render(kind, channel, messages.context_for(row))
    assert body.strip(), "empty message"
    assert denied(subject) == [] and denied(body) == [], (subject, body)
    assert privacy.violations(subject + "\n" + body) == []
    assert "Riverside" not in subject + body
    if channel != Channel.IN_APP:
        assert "Details" in body or "Log in" in body or "ready" in body or "attention" in body
        assert messages.link_for(kind) in body  # details only behind login


@pytest.mark.parametrize("kind", Kind.values)
def test_sms_fits_in_two_segments(kind, tempting):
    row = Notification(
        kind=kind, channel=Channel.SMS, recipient=tempting.user, patient=tempting, payload=PAYLOAD
    )
    _, body = messages.render(kind, Channel.SMS, messages.context_for(row))
    assert len(body) <= 306


def test_sender_refuses_a_text_that_fails_the_denylist(tempting, settings, tmp_path, make_rows):
    bad = tmp_path / "notifications" / "messages"
    bad.mkdir(parents=True)
    (bad / "injection_due.subject.txt").write_text("Your Vivitrol shot at {{ site.name }}")
    (bad / "injection_due.email.txt").write_text("Hi")
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    tempting.save()
    NotificationPreference.objects.create(
        user=tempting.user,
        channel=Channel.EMAIL,
        quiet_start=None,
        quiet_end=None,
        updated_at=timezone.now(),
    )
    (row,) = make_rows(1, recipient=tempting.user, patient=tempting)
    outcome = sending.notification_send(notification_id=row.pk, claim_token="x", now=timezone.now())
    row.refresh_from_db()
    assert outcome == "failed: privacy"
    assert row.status == Status.FAILED and "vivitrol" in row.last_error
    assert mail.outbox == []
