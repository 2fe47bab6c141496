"""Every reminder kind, on every channel, in English and in Spanish: the Spanish text is
really Spanish, and neither reveals treatment (the code's denylist, and this test's own
Spanish list, accents folded as a phone or a person might type them)."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime

import pytest
from django.utils import translation

from notifications import messages, privacy, registry
from notifications.models import Channel, Kind, Notification
from tests.conftest import SCENARIO_NOW

pytestmark = [pytest.mark.frozen(SCENARIO_NOW), pytest.mark.django_db]

# Every kind a registered source plans, and every kind of the model (the staff ones
# included): a new source's kind is in the parameters as soon as it registers.
KINDS = sorted({k for source in registry.sources() for k in source.kinds} | set(Kind.values))

# Kept apart from the code's list so that the test does not only agree with it.
SPANISH_DENIED = [
    "adiccion", "adicto", "rehabilitacion", "recuperacion", "tratamiento",
    "desintoxicacion", "abstinencia", "heroina", "opioide", "opiaceo", "fentanilo", "droga",
    "metadona", "buprenorfina", "naltrexona", "naloxona", "alcohol", "cocaina",
    "metanfetamina", "marihuana", "sustancia", "sobriedad", "sobrio", "recaida",
    "sobredosis", "orina", "prueba de", "resultado", "positivo", "negativo", "diagnostico",
    "medicamento", "medicacion", "ambulatorio intensivo", "12 pasos", "doce pasos",
]  # fmt: skip
# Words a Spanish reminder must not still carry from English.
ENGLISH_LEFT = re.compile(
    r"\b(hi|your|you|please|reminder|details|log in|appointment|assignment|today|"
    r"the|is|are|has|have|due|cancelled)\b",
    re.IGNORECASE,
)
PAYLOAD = {
    "at": datetime(2026, 12, 3, 23, 0, tzinfo=UTC).isoformat(),
    "deadline": datetime(2026, 12, 3, 22, 0, tzinfo=UTC).isoformat(),
    "due_date": date(2026, 12, 6).isoformat(),
    "day": date(2026, 12, 3).isoformat(),
    "logged": 1,
    "required": 3,
}


def folded(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


@pytest.fixture
def tempting(patient, site):
    """A Spanish-speaking patient at a site whose name gives the game away."""
    site.name = "Centro de Recuperación Riverside"
    site.save()
    patient.site = site
    patient.primary_substance = "fentanilo"
    patient.legal_first_name = "María"
    patient.preferred_language = "es"
    patient.save()
    return patient


def _render(kind: str, channel: str, patient, language: str | None = None):
    recipient = patient.user
    row = Notification(
        kind=kind, channel=channel, recipient=recipient, patient=patient, payload=PAYLOAD
    )
    if language is None:
        return messages.render_checked(row)
    with translation.override(language):
        return messages.render(kind, channel, messages.context_for(row))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("channel", Channel.values)
def test_every_reminder_renders_in_spanish_and_passes_the_denylist(kind, channel, tempting):
    subject, body = _render(kind, channel, tempting)  # as the sender renders it
    text = subject + "\n" + body
    assert body.strip()
    assert privacy.violations(text) == []
    assert [w for w in SPANISH_DENIED if re.search(r"\b" + w, folded(text))] == []
    assert "Riverside" not in text
    english = _render(kind, channel, tempting, "en")
    assert body != english[1], "the Spanish body is the English one"
    left = ENGLISH_LEFT.findall(text.replace(messages.link_for(kind), ""))
    assert left == [], (left, text)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("channel", Channel.values)
def test_every_reminder_still_renders_in_english(kind, channel, tempting):
    tempting.preferred_language = "en"
    subject, body = _render(kind, channel, tempting)
    assert privacy.violations(subject + body) == []
    assert not re.search(r"\b(hola|tiene|su|usted|recordatorio|detalles|entre)\b", folded(body))
    assert body != _render(kind, channel, tempting, "es")[1]


@pytest.mark.parametrize("kind", KINDS)
def test_a_spanish_text_fits_two_sms_segments(kind, tempting):
    _, body = _render(kind, Channel.SMS, tempting)
    # Only GSM 03.38 characters (accents outside it folded), so two segments hold 306.
    assert all(c in messages.GSM7 for c in body), {c for c in body if c not in messages.GSM7}
    assert len(body) <= 306


def test_staff_messages_stay_in_english_for_a_spanish_speaking_patients_staff(tempting, counselor):
    row = Notification(
        kind=Kind.STAFF_ALERT,
        channel=Channel.EMAIL,
        recipient=counselor,
        patient=tempting,
        payload=PAYLOAD,
    )
    assert messages.language_for(row) == "en"
    subject, _ = messages.render_checked(row)
    assert subject == "An item needs your attention"


def test_the_date_in_a_spanish_reminder_is_written_the_spanish_way(tempting):
    _, body = _render(Kind.SESSION_REMINDER, Channel.IN_APP, tempting)
    # Thu Dec 3 at 6:00 PM in New York.
    assert "el jue 3 Dic a las 6:00 PM" in body, body


@pytest.mark.parametrize(
    "text",
    ["Su RECAÍDA", "la adiccion", "metadona", "Buprenorfina", "SOBREDOSIS", "rehabilitación",
     "sustancias", "desintoxicacion", "drogas", "alcohol", "tratamiento"],
)  # fmt: skip
def test_the_denylist_knows_spanish_with_or_without_accents(text):
    assert privacy.violations(text)
