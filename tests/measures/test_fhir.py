"""A completed sitting as FHIR QuestionnaireResponse and Observation dicts."""

from __future__ import annotations

import pytest

from measures.fhir import LOINC, observations, questionnaire_response
from measures.models import Administration

pytestmark = pytest.mark.django_db

PHQ9 = {1: 1, 2: 2, 3: 3, 4: 2, 5: 1, 6: 2, 7: 3, 8: 1, 9: 0, 10: 1}
BAM = {1: 3, 2: 2, 3: 3, 4: 1, 5: 0, 6: 2, 71: 1, 8: 2, 9: 1, 10: 3, 11: 2, 12: 1}
BAM |= {13: 0, 14: 4, 15: 1, 16: 2, 17: 2}


@pytest.fixture
def phq9_sitting(complete_sitting, patient):
    return complete_sitting(patient, "phq9", PHQ9, actor=patient.user)


@pytest.fixture
def bam_staff_sitting(complete_sitting, patient, counselor):
    return complete_sitting(
        patient, "bam", BAM, actor=counselor, mode=Administration.Mode.WITH_STAFF, language="es"
    )


def test_questionnaire_response_names_the_loinc_form_and_the_patient(phq9_sitting, patient):
    qr = questionnaire_response(phq9_sitting)
    assert qr["resourceType"] == "QuestionnaireResponse"
    assert qr["status"] == "completed"
    assert qr["questionnaire"] == "http://loinc.org/q/44249-1"
    assert qr["subject"] == {"reference": f"Patient/{patient.pk}"}
    assert qr["author"] == qr["source"] == {"reference": f"Patient/{patient.pk}"}
    assert qr["authored"] == phq9_sitting.completed_at.isoformat()


def test_questionnaire_response_keeps_every_answer_as_a_loinc_coding(phq9_sitting):
    items = {i["linkId"]: i for i in questionnaire_response(phq9_sitting)["item"]}
    assert len(items) == 10
    assert items["/44255-8"]["answer"] == [
        {
            "valueCoding": {
                "system": LOINC,
                "code": "LA6570-1",
                "display": "More than half the days",
            }
        }
    ]
    assert items["/69722-7"]["answer"][0]["valueCoding"]["code"] == "LA6573-5"


def test_a_staff_entered_sitting_is_authored_by_the_staff_member(bam_staff_sitting, counselor):
    qr = questionnaire_response(bam_staff_sitting)
    assert qr["author"] == {"reference": f"Practitioner/{counselor.pk}"}
    assert qr["source"]["reference"].startswith("Patient/")


def test_bam_answers_use_the_local_code_system_and_the_sittings_language(bam_staff_sitting):
    qr = questionnaire_response(bam_staff_sitting)
    assert qr["questionnaire"] == "https://stepwise.example/fhir/Questionnaire/bam|1"
    items = {i["linkId"]: i for i in qr["item"]}
    assert items["7a"]["answer"][0]["valueCoding"] == {
        "system": "https://stepwise.example/fhir/CodeSystem/bam-answers",
        "code": "days-1-3",
        "display": "1-3 días",
    }
    assert "7b" not in items  # not answered: not invented


def test_phq9_total_observation_uses_loinc_44261_6_with_its_band(phq9_sitting):
    [total] = observations(phq9_sitting)
    assert total["code"]["coding"][0]["system"] == LOINC
    assert total["code"]["coding"][0]["code"] == "44261-6"
    assert total["valueInteger"] == 15
    assert total["interpretation"][0]["text"] == "Moderately severe"
    assert total["derivedFrom"] == [{"reference": f"QuestionnaireResponse/{phq9_sitting.pk}"}]


def test_gad7_total_observation_uses_loinc_70274_6(complete_sitting, patient):
    sitting = complete_sitting(patient, "gad7", dict.fromkeys(range(1, 8), 2), actor=patient.user)
    [total] = observations(sitting)
    assert total["code"]["coding"][0]["code"] == "70274-6"
    assert total["valueInteger"] == 14
    assert [i["text"] for i in total["interpretation"]] == [
        "Moderate",
        "Positive screen (10 or more)",
    ]


def test_bam_observation_carries_use_risk_and_protective_as_components(bam_staff_sitting):
    [total] = observations(bam_staff_sitting)
    assert total["code"]["coding"][0]["code"] == "bam-use"
    assert total["valueInteger"] == 3
    assert {c["code"]["coding"][0]["code"]: c["valueInteger"] for c in total["component"]} == {
        "bam-use": 3,
        "bam-risk": 13,
        "bam-protective": 11,
    }


def test_an_open_sitting_is_not_exported(instruments, patient, today):
    from measures.services.administrations import administration_create

    open_sitting = administration_create(
        actor=None, patient=patient, instrument=instruments["phq9"], reason="ad_hoc", due_on=today
    )
    with pytest.raises(ValueError):
        questionnaire_response(open_sitting)
    with pytest.raises(ValueError):
        observations(open_sitting)


@pytest.mark.parametrize("release", ["", "R4B."])
def test_the_resources_validate_against_the_fhir_models(phq9_sitting, bam_staff_sitting, release):
    # fhir.resources is in the test extras; it checks every field name and type, in R5
    # (its default) and in R4B (the exchange app's Bundle holds these as they are).
    pytest.importorskip("fhir.resources")
    from importlib import import_module

    Observation = import_module(f"fhir.resources.{release}observation").Observation
    QuestionnaireResponse = import_module(
        f"fhir.resources.{release}questionnaireresponse"
    ).QuestionnaireResponse

    for sitting in (phq9_sitting, bam_staff_sitting):
        QuestionnaireResponse.model_validate(questionnaire_response(sitting))
        for observation in observations(sitting):
            Observation.model_validate(observation)


def test_instants_on_a_given_clock_keep_the_instant_and_show_its_offset(phq9_sitting):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    la = ZoneInfo("America/Los_Angeles")
    authored = questionnaire_response(phq9_sitting, tz=la)["authored"]
    [total] = observations(phq9_sitting, tz=la)
    assert datetime.fromisoformat(authored) == phq9_sitting.completed_at
    assert authored == phq9_sitting.completed_at.astimezone(la).isoformat()
    assert total["effectiveDateTime"] == authored
