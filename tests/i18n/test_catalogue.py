"""The Spanish catalogue is complete and current, and no patient-facing template holds
words outside the translation tags."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "locale" / "es" / "LC_MESSAGES" / "django.po"
TEMPLATES = ROOT / "templates"

# Every template a patient (or a signed-out visitor) sees: the portal's pages and
# panels, the reminders' texts, the login and password pages, the error pages.
PATIENT_TEMPLATES = [
    "base.html",
    "_language_picker.html",
    "_reattach.html",
    "403.html",
    "404.html",
    "core/portal_home.html",
    "patients/_portal_days.html",
    "scheduling/_panel_portal_home.html",
    "scheduling/portal_schedule.html",
    "notifications/_portal_panel.html",
    "notifications/inbox.html",
    "notifications/preferences.html",
    "recovery/_panel_portal_home.html",
    "recovery/portal_homework.html",
    "recovery/portal_meetings.html",
    "recovery/_rounds.html",
    "drugtests/_portal_notice.html",
    "contingency/_portal_home.html",
    "contingency/mine.html",
    "records/plans/_portal_home.html",
    "records/plans/portal.html",
    "records/plans/_signatures.html",
    "measures/panels/checkin_portal_home.html",
    "measures/checkins.html",
    "letters/my_record.html",
    "letters/my_disclosures.html",
    "letters/_disclosure_rows.html",
    "exchange/my_bundle.html",
    *sorted(f"registration/{p.name}" for p in (TEMPLATES / "registration").glob("password_*.html")),
    "registration/login.html",
    *sorted(
        f"notifications/messages/{p.name}"
        for p in (TEMPLATES / "notifications" / "messages").glob("*.txt")
    ),
]
# Words that are the same in both languages, or names.
ALLOWED_WORDS = {"Stepwise", "English", "Español", "ASAM", "PDF", "FHIR", "JSON", "STOP"}
# Spans whose words are translated, data, or not text at all.
NOT_TEXT = re.compile(
    r"\{% blocktranslate.*?%\}.*?\{% endblocktranslate %\}"
    r"|\{% comment %\}.*?\{% endcomment %\}|\{% block body_class %\}.*?\{% endblock %\}"
    r"|\{%.*?%\}|\{\{.*?\}\}|\{#.*?#\}"
    r"|<script.*?</script>|<style.*?</style>|<!--.*?-->|<[^>]*>"
    r"|&[a-z]+;|https?://\S+",
    re.DOTALL,
)


def entries(text: str) -> list[dict[str, str]]:
    """The entries of a .po file (msgid, msgid_plural, msgstr[n], flags), header left out."""
    found = []
    for block in text.split("\n\n"):
        entry: dict[str, str] = {"flags": ""}
        key = None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] += line
            match = re.match(r'^(msgid|msgid_plural|msgctxt|msgstr(?:\[\d\])?) "(.*)"$', line)
            if match:
                key = match.group(1)
                entry[key] = match.group(2)
            elif line.startswith('"') and key:
                entry[key] += line[1:-1]
        if entry.get("msgid"):
            found.append(entry)
    return found


def test_every_message_has_a_spanish_translation_and_none_is_fuzzy():
    problems = []
    for entry in entries(PO.read_text(encoding="utf-8")):
        strings = [v for k, v in entry.items() if k.startswith("msgstr")]
        if "fuzzy" in entry["flags"] or not strings or not all(strings):
            problems.append(entry["msgid"])
    assert problems == []


def test_the_translations_keep_every_placeholder():
    for entry in entries(PO.read_text(encoding="utf-8")):
        wanted = sorted(re.findall(r"%\(\w+\)s", entry["msgid"]))
        for key, value in entry.items():
            if key.startswith("msgstr"):
                assert sorted(re.findall(r"%\(\w+\)s", value)) == wanted, entry["msgid"]


def test_the_catalogue_holds_every_marked_string_of_the_code(tmp_path):
    """makemessages on a copy of the code: any msgid it finds that the committed catalogue
    lacks (a string marked since, not translated) fails here."""
    if shutil.which("xgettext") is None:
        pytest.skip("gettext is not installed (make test installs it)")
    copy = tmp_path / "code"
    shutil.copytree(
        ROOT,
        copy,
        symlinks=True,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "var", "tests", "bench", "static", "node_modules", "__pycache__"
        ),
    )
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "es", "-e", "html,txt,py",
         "--ignore=.venv", "--ignore=var", "--no-obsolete", "-v0"],
        cwd=copy, check=True, env={"PATH": "/usr/bin:/bin", "DEBUG": "1",
                                    "DATABASE_URL": "sqlite://:memory:"},
    )  # fmt: skip
    fresh = entries((copy / "locale" / "es" / "LC_MESSAGES" / "django.po").read_text())
    committed = entries(PO.read_text(encoding="utf-8"))
    key = lambda e: (e.get("msgctxt", ""), e["msgid"], e.get("msgid_plural", ""))  # noqa: E731
    missing = sorted({key(e) for e in fresh} - {key(e) for e in committed})
    stale = sorted({key(e) for e in committed} - {key(e) for e in fresh})
    assert missing == [], "marked but not in the catalogue (run makemessages, translate)"
    assert stale == [], "in the catalogue but no longer in the code (makemessages --no-obsolete)"
    untranslated = [e["msgid"] for e in fresh if not e.get("msgstr", "x")]
    assert untranslated == []


@pytest.mark.parametrize("name", PATIENT_TEMPLATES)
def test_a_patient_facing_template_has_no_unmarked_words(name):
    source = (TEMPLATES / name).read_text(encoding="utf-8")
    assert "{% load i18n" in source or "{% load" in source and " i18n" in source, name
    text = NOT_TEXT.sub(" ", source)
    words = [w for w in re.findall(r"[A-Za-zÀ-ÿ]{2,}", text) if w not in ALLOWED_WORDS]
    assert words == [], f"{name}: text outside translation tags: {words}"
