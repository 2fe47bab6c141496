"""A completed sitting as FHIR (R4/R4B/R5) resources, as plain dicts: a QuestionnaireResponse
with every answer, and Observations with the scores. The fields used have the same shape
in R4B and R5 (the exchange app's R4B Bundle holds them as they are; tests validate both).

Everything comes from what the sitting stored: item link ids, the chosen option's code
(LOINC answer codes for the PHQ-9 and GAD-7; this clinic's code system for the BAM, which
has none), the instrument's LOINC panel and total codes and its version. The BAM has no
LOINC total: its Use score (the stored total) and each subscale go out under local codes.
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from typing import Any

from .models import Administration, Answer, InstrumentItem

LOINC = "http://loinc.org"
# This clinic's canonical base for what LOINC does not name.
LOCAL = "https://stepwise.example/fhir"
SURVEY = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": "survey",
            "display": "Survey",
        }
    ]
}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def questionnaire_canonical(administration: Administration) -> str:
    instrument = administration.instrument
    if instrument.loinc_panel:
        # LOINC's own form; our version row numbers our copy, not LOINC's release.
        return f"{LOINC}/q/{instrument.loinc_panel}"
    return f"{LOCAL}/Questionnaire/{instrument.code}|{instrument.version}"


def answer_system(administration: Administration, code: str) -> str:
    if re.fullmatch(r"LA\d+-\d", code):
        return LOINC
    return f"{LOCAL}/CodeSystem/{administration.instrument.code}-answers"


def _instant(moment: datetime, tz: tzinfo | None) -> str:
    # With ``tz`` (the patient's site), the offset a reader there expects.
    return (moment.astimezone(tz) if tz is not None else moment).isoformat()


def _subject(administration: Administration) -> dict[str, str]:
    return {"reference": f"Patient/{administration.patient_id}"}


def authored_by_staff(administration: Administration) -> bool:
    """Whether a staff member (a Practitioner) entered the sitting with the patient."""
    return (
        administration.mode == Administration.Mode.WITH_STAFF
        and administration.entered_by_id is not None
    )


def _author(administration: Administration) -> dict[str, str]:
    if authored_by_staff(administration):
        return {"reference": f"Practitioner/{administration.entered_by_id}"}
    return _subject(administration)


def _require_completed(administration: Administration) -> None:
    if administration.status != Administration.Status.COMPLETED:
        raise ValueError("only a completed sitting is exported")


def _answers(administration: Administration) -> list[tuple[InstrumentItem, Answer]]:
    answers = {a.item_id: a for a in administration.answers.all()}
    return [
        (item, answers[item.pk])
        for item in administration.instrument.items.all()
        if item.pk in answers
    ]


def questionnaire_response(
    administration: Administration, *, tz: tzinfo | None = None
) -> dict[str, Any]:
    """The sitting as a QuestionnaireResponse: who answered (the patient in the portal, or
    a staff member entering it with the patient: ``author``; the patient is always the
    ``source``), when, and each answer as a coding."""
    _require_completed(administration)
    assert administration.completed_at is not None
    items = []
    for item, answer in _answers(administration):
        option = item.option(answer.value) or {"code": str(answer.value), "en": ""}
        code = str(option["code"])
        items.append(
            {
                "linkId": item.link_id,
                "text": item.text(administration.language),
                "answer": [
                    {
                        "valueCoding": {
                            "system": answer_system(administration, code),
                            "code": code,
                            "display": str(option.get(administration.language) or option["en"]),
                        }
                    }
                ],
            }
        )
    return {
        "resourceType": "QuestionnaireResponse",
        "id": str(administration.pk),
        "questionnaire": questionnaire_canonical(administration),
        "status": "completed",
        "subject": _subject(administration),
        "authored": _instant(administration.completed_at, tz),
        "author": _author(administration),
        "source": _subject(administration),
        "item": items,
    }


def _total_code(administration: Administration) -> dict[str, Any]:
    instrument = administration.instrument
    if instrument.loinc_total:
        return {
            "coding": [
                {
                    "system": LOINC,
                    "code": instrument.loinc_total,
                    "display": f"{instrument.short_name} total score",
                }
            ],
            "text": f"{instrument.short_name} total score",
        }
    label = str(instrument.scoring.get("total_label") or "total")
    return {
        "coding": [
            {
                "system": f"{LOCAL}/CodeSystem/measures",
                "code": f"{instrument.code}-{_slug(label)}",
                "display": f"{instrument.short_name} {label}",
            }
        ],
        "text": f"{instrument.short_name} {label}",
    }


def observations(
    administration: Administration, *, tz: tzinfo | None = None
) -> list[dict[str, Any]]:
    """The scores: one Observation for the total (LOINC 44261-6 / 70274-6 where LOINC has
    one), interpreted by its band and flags, with each subscale as a component."""
    _require_completed(administration)
    assert administration.completed_at is not None and administration.total is not None
    instrument = administration.instrument
    interpretation: list[dict[str, Any]] = []
    if administration.band:
        interpretation.append(
            {
                "coding": [
                    {
                        "system": f"{LOCAL}/CodeSystem/{instrument.code}-bands",
                        "code": _slug(administration.band),
                        "display": administration.band,
                    }
                ],
                "text": administration.band,
            }
        )
    interpretation += [{"text": str(flag)} for flag in administration.flags]
    subscales = instrument.scoring.get("subscales", {})
    labels = {key: str(sub.get("label", key)) for key, sub in subscales.items()}
    components = [
        {
            "code": {
                "coding": [
                    {
                        "system": f"{LOCAL}/CodeSystem/measures",
                        "code": f"{instrument.code}-{key}",
                        "display": f"{instrument.short_name} {labels.get(key, key)}",
                    }
                ]
            },
            "valueInteger": int(value),
        }
        for key, value in administration.subscales.items()
    ]
    total: dict[str, Any] = {
        "resourceType": "Observation",
        "id": f"{administration.pk}-total",
        "status": "final",
        "category": [SURVEY],
        "code": _total_code(administration),
        "subject": _subject(administration),
        "effectiveDateTime": _instant(administration.completed_at, tz),
        "issued": _instant(administration.completed_at, tz),
        "valueInteger": administration.total,
        "derivedFrom": [{"reference": f"QuestionnaireResponse/{administration.pk}"}],
    }
    if interpretation:
        total["interpretation"] = interpretation
    if components:
        total["component"] = components
    return [total]
