"""42 CFR Part 2: texts that leave the system (SMS, email) must not reveal that the
recipient is in a substance use disorder program.

The words below must never appear in an SMS, an email subject or body, or the portal
line of a notification; details are shown only behind login. The sender checks every
rendered message against this list and refuses to send one that fails (the row is
marked failed, nothing leaves), so a careless template edit cannot leak.
"""

from __future__ import annotations

import re
import unicodedata

DENYLIST = (
    "addiction",
    "addict",
    "rehab",
    "recovery",
    "recovery center",
    "treatment",
    "detox",
    "withdrawal",
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
    "naloxone",
    "narcan",
    "alcohol",
    "cocaine",
    "meth",
    "cannabis",
    "substance",
    "sobriety",
    "sober",
    "relapse",
    "urine",
    "urinalysis",
    "specimen",
    "screen",
    "tox",
    "test result",
    "positive",
    "negative",
    "diagnosis",
    "medication",
    "intensive outpatient",
    "partial hospitalization",
    "12-step",
    "twelve step",
)
# The same in Spanish (reminders go out in the patient's language). Written with their
# accents; text and words are compared with accents folded ("adiccion", "ADICCIÓN" and
# "adicción" all match), as people and phones type them either way.
DENYLIST_ES = (
    "adicción",
    "adicto",
    "adicta",
    "rehabilitación",
    "recuperación",
    "tratamiento",
    "desintoxicación",
    "abstinencia",
    "heroína",
    "opioide",
    "opiáceo",
    "fentanilo",
    "droga",
    "metadona",
    "buprenorfina",
    "naltrexona",
    "naloxona",
    "alcohol",
    "cocaína",
    "metanfetamina",
    "marihuana",
    "sustancia",
    "sobriedad",
    "sobrio",
    "sobria",
    "recaída",
    "sobredosis",
    "orina",
    "muestra de",
    "análisis de",
    "prueba de",
    "toxicológic",
    "resultado",
    "positivo",
    "negativo",
    "diagnóstico",
    "medicamento",
    "medicación",
    "ambulatorio intensivo",
    "hospitalización parcial",
    "12 pasos",
    "doce pasos",
    "narcóticos",
)
# Short acronyms are matched in capitals only ("AA", "NA", "IOP", "PHP", "SUD", "OTP").
ACRONYMS = ("AA", "NA", "CA", "IOP", "PHP", "SUD", "OUD", "AUD", "OTP", "MAT")


def fold(text: str) -> str:
    """``text`` without accents (NFKD, combining marks dropped): "recaída" -> "recaida"."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


_WORDS = re.compile(
    r"\b(" + "|".join(re.escape(fold(w)) for w in (*DENYLIST, *DENYLIST_ES)) + r")",
    re.IGNORECASE,
)
_ACRONYMS = re.compile(r"\b(" + "|".join(ACRONYMS) + r")\b")


def violations(text: str) -> list[str]:
    """Denied words found in ``text`` (empty when the text is safe to send)."""
    found = [m.group(1).lower() for m in _WORDS.finditer(fold(text))]
    found += [m.group(1) for m in _ACRONYMS.finditer(text)]
    return found


class PrivacyViolation(Exception):
    pass


def check(text: str) -> str:
    bad = violations(text)
    if bad:
        raise PrivacyViolation(f"message contains denied wording: {', '.join(sorted(set(bad)))}")
    return text
