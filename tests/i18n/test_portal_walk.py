"""The demo clinic's portal, read in Spanish: patient1 switched to Spanish opens every
portal page, and no English sentence is left on any of them (what the clinic typed,
names and titles, is data and stays as written)."""

from __future__ import annotations

import html
import re

from django.apps import apps
from django.db import models
from django.test import Client
from django.urls import reverse

from core.models import User
from patients.models import Patient

from .test_catalogue import PO, entries

PAGES = [
    "home",
    "scheduling:portal_schedule",
    "recovery:portal_homework",
    "recovery:portal_meetings",
    "records:portal_plan",
    "letters:my_record",
    "letters:my_disclosures",
    "notifications:inbox",
    "notifications:preferences",
    "measures:checkins",
    "contingency:mine",
    "exchange:my_bundle",
    "privacy:password_change",
]
# English words that are not Spanish ones: two in one piece of text make it English.
ENGLISH = {
    "the", "your", "you", "and", "of", "to", "is", "are", "have", "has", "this", "with",
    "will", "please", "been", "here", "what", "when", "who", "for", "not", "yet", "an",
    "it", "be", "was", "from", "by", "on", "at", "in", "my", "our", "we", "no", "next",
}  # fmt: skip
# Data shown on the pages that is English by nature (typed by the clinic, or names).
NAMES = {"Stepwise", "English", "Español"}


def visible_text(page: str) -> list[str]:
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.DOTALL)
    page = re.sub(r'<input[^>]*type="hidden"[^>]*>', " ", page)
    pieces = re.split(r"<[^>]*>", page)
    return [html.unescape(p).strip() for p in pieces if p.strip()]


def data_strings() -> list[str]:
    """Every text value stored in the database, longest first: what the clinic typed (a
    homework's title, a meeting's name, a reminder already sent in English)."""
    found: set[str] = set()
    for model in apps.get_models():
        fields = [
            f.name
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField) and not f.choices
        ]
        if not fields or not model._meta.managed:
            continue
        for row in model._default_manager.values_list(*fields):
            found.update(v for v in row if isinstance(v, str) and len(v) >= 3)
    return sorted(found, key=len, reverse=True)


def english_fragments() -> list[str]:
    """The catalogue's English sentences, cut at their placeholders and tags, each long
    enough to be a sentence of the interface rather than a word."""
    out = set()
    for entry in entries(PO.read_text(encoding="utf-8")):
        text = entry["msgid"].replace('\\"', '"')
        for part in re.split(r"%\(\w+\)s|<[^>]*>", text):
            part = part.strip(" .,:;·()")
            if len(part.split()) >= 3:
                out.add(part)
    return sorted(out)


def test_the_demo_portal_reads_in_spanish_with_no_english_left(demo_clinic):
    user = User.objects.get(username="patient1")
    Patient.objects.filter(user=user).update(preferred_language="es")
    client = Client()
    client.force_login(user)
    data = data_strings()
    fragments = english_fragments()
    problems = []
    for name in PAGES:
        response = client.get(reverse(name), follow=True)
        assert response.status_code == 200, name
        assert response["Content-Language"] == "es", name
        page = response.content.decode()
        assert '<html lang="es">' in page, name
        shown = [d for d in data if d in page or html.escape(d) in page]
        for piece in visible_text(page):
            for value in shown:
                piece = piece.replace(value, " ")
            for fragment in fragments:
                if fragment in piece:
                    problems.append((name, "interface", fragment))
            words = re.findall(r"[a-záéíóúñü']+", piece.lower())
            english = [w for w in words if w in ENGLISH]
            if len(set(english)) >= 2 and not set(piece.split()) <= NAMES:
                problems.append((name, "sentence", piece))
    assert problems == [], "\n".join(map(str, problems))
