from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError

from drugtests.interpretation import expected_analytes, interpret, overall_outcome
from drugtests.models import Interpretation, Outcome, TestAlert
from drugtests.services.collection import specimen_collect
from drugtests.services.results import result_enter
from patients.services.medication import medication_order_create

from .conftest import NOW

pytestmark = pytest.mark.django_db
LATER = NOW + timedelta(hours=1)
POS, NEG, NT = "positive", "negative", "not_tested"
BUP = frozenset({"buprenorphine"})


@pytest.mark.parametrize(
    ("analyte", "outcome", "expected", "reading"),
    [
        ("buprenorphine", POS, BUP, Interpretation.EXPECTED_POSITIVE),
        ("buprenorphine", NEG, BUP, Interpretation.PRESCRIBED_ABSENT),
        ("fentanyl", POS, BUP, Interpretation.UNEXPECTED_POSITIVE),
        ("fentanyl", NEG, BUP, Interpretation.EXPECTED_NEGATIVE),
        ("buprenorphine", POS, frozenset(), Interpretation.UNEXPECTED_POSITIVE),
        ("buprenorphine", NEG, frozenset(), Interpretation.EXPECTED_NEGATIVE),
        ("methadone", NEG, frozenset({"methadone"}), Interpretation.PRESCRIBED_ABSENT),
        ("buprenorphine", NT, BUP, Interpretation.NOT_TESTED),
    ],
)
def test_interpretation_table(analyte, outcome, expected, reading):
    assert interpret(analyte, outcome, expected) == reading


@pytest.mark.parametrize(
    ("meds", "analytes"),
    [
        ({"buprenorphine_sl"}, {"buprenorphine"}),
        ({"buprenorphine_naloxone"}, {"buprenorphine"}),
        ({"buprenorphine_xr"}, {"buprenorphine"}),
        ({"buprenorphine_implant"}, {"buprenorphine"}),
        ({"methadone"}, {"methadone"}),
        ({"naltrexone_xr", "naltrexone_oral"}, set()),
    ],
)
def test_mat_maps_to_analytes(meds, analytes):
    assert expected_analytes(meds) == analytes


@pytest.mark.parametrize(
    ("validity", "readings", "outcome"),
    [
        ("valid", [Interpretation.EXPECTED_NEGATIVE], Outcome.NEGATIVE),
        ("valid", [Interpretation.PRESCRIBED_ABSENT], Outcome.NEGATIVE),
        (
            "valid",
            [Interpretation.EXPECTED_POSITIVE, Interpretation.EXPECTED_NEGATIVE],
            Outcome.EXPLAINED,
        ),
        (
            "valid",
            [Interpretation.EXPECTED_POSITIVE, Interpretation.UNEXPECTED_POSITIVE],
            Outcome.POSITIVE,
        ),
        ("adulterated", [Interpretation.EXPECTED_NEGATIVE], Outcome.INVALID),
        ("substituted", [], Outcome.INVALID),
        ("valid", [Interpretation.NOT_TESTED], ""),
    ],
)
def test_overall_outcome(validity, readings, outcome):
    assert overall_outcome(validity, readings) == outcome


@pytest.fixture
def on_buprenorphine(patient, nurse):
    medication_order_create(
        actor=nurse,
        patient=patient,
        medication="buprenorphine_naloxone",
        dose="16 mg/4 mg",
        frequency="daily",
        prescriber="Dr. A",
        start_date=date(2026, 9, 1),
    )
    return patient


@pytest.fixture
def collected(selected, collector):
    specimen_collect(
        actor=collector,
        selection=selected,
        chain_of_custody_id="COC-9",
        method="poc",
        observed=True,
        temperature_in_range=True,
        validity="valid",
        now=LATER,
    )
    return selected


def _enter(nurse, selection, source="poc", **analytes):
    return result_enter(
        actor=nurse,
        selection=selection,
        source=source,
        analytes={k: (v, None) for k, v in analytes.items()},
        now=LATER,
    )


def test_result_for_specimen_not_collected_refused(selected, nurse):
    with pytest.raises(ValidationError, match="No specimen was collected"):
        _enter(nurse, selected, buprenorphine=POS)
    assert not selected.alerts.exists()


def test_prescribed_but_absent_flags_and_alerts(on_buprenorphine, collected, nurse):
    result = _enter(nurse, collected, buprenorphine=NEG, fentanyl=NEG)
    row = result.analytes.get(analyte="buprenorphine")
    assert row.interpretation == Interpretation.PRESCRIBED_ABSENT
    assert result.prescribed == ["buprenorphine_naloxone"]
    collected.refresh_from_db()
    assert collected.outcome == Outcome.NEGATIVE
    assert list(TestAlert.objects.values_list("kind", "analyte")) == [
        ("prescribed_absent", "buprenorphine")
    ]


def test_prescribed_positive_is_explained_not_relapse(on_buprenorphine, collected, nurse):
    _enter(nurse, collected, buprenorphine=POS, fentanyl=NEG)
    collected.refresh_from_db()
    assert collected.outcome == Outcome.EXPLAINED
    assert not TestAlert.objects.exists()


def test_unexpected_opioid_positive_raises_overdose_alert(collected, nurse):
    _enter(nurse, collected, fentanyl=POS, cocaine=NEG)
    collected.refresh_from_db()
    assert collected.outcome == Outcome.POSITIVE
    assert set(TestAlert.objects.values_list("kind", "analyte")) == {
        ("opioid_positive", "fentanyl"),
    }


def test_unexpected_non_opioid_positive_has_no_overdose_alert(collected, nurse):
    _enter(nurse, collected, cocaine=POS)
    assert set(TestAlert.objects.values_list("kind", flat=True)) == {"unexpected_positive"}


def test_lab_confirmation_overrides_cup_and_does_not_duplicate_alerts(collected, nurse):
    _enter(nurse, collected, fentanyl=POS, cocaine=POS)
    _enter(nurse, collected, source="lab", fentanyl=POS, cocaine=NEG)
    collected.refresh_from_db()
    assert collected.outcome == Outcome.POSITIVE
    assert collected.specimen.results.count() == 2
    assert TestAlert.objects.filter(kind="opioid_positive", analyte="fentanyl").count() == 1
    # One finding per positive: the opioid's is the overdose-risk one, not two alerts.
    assert not TestAlert.objects.filter(kind="unexpected_positive", analyte="fentanyl").exists()


def test_lab_negative_turns_presumptive_positive_negative(collected, nurse):
    _enter(nurse, collected, cocaine=POS)
    _enter(nurse, collected, source="lab", cocaine=NEG)
    collected.refresh_from_db()
    assert collected.outcome == Outcome.NEGATIVE


def test_second_result_from_same_source_refused(collected, nurse):
    _enter(nurse, collected, cocaine=NEG)
    with pytest.raises(ValidationError) as exc:
        _enter(nurse, collected, cocaine=POS)
    assert "source" in exc.value.message_dict


def test_result_needs_at_least_one_tested_analyte(collected, nurse):
    with pytest.raises(ValidationError):
        _enter(nurse, collected, cocaine=NT)


def test_result_uses_mat_on_collection_day_not_today(patient, collected, nurse):
    medication_order_create(
        actor=nurse,
        patient=patient,
        medication="methadone",
        dose="80 mg",
        frequency="daily",
        prescriber="Dr. A",
        start_date=NOW.date() + timedelta(days=2),
    )
    result = _enter(nurse, collected, methadone=NEG)
    assert result.analytes.get().interpretation == Interpretation.EXPECTED_NEGATIVE
