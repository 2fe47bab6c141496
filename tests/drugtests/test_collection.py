from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from drugtests.models import Outcome, Selection, Specimen, TestAlert
from drugtests.services.collection import for_cause_order, selection_refuse, specimen_collect

from .conftest import NOW

pytestmark = pytest.mark.django_db

LATER = NOW + timedelta(hours=1)


def _collect(collector, selection=None, **extra):
    kwargs = {
        "actor": collector,
        "selection": selection,
        "chain_of_custody_id": "COC-1",
        "method": "poc",
        "observed": True,
        "temperature_in_range": True,
        "validity": "valid",
        "now": LATER,
        **extra,
    }
    return specimen_collect(**kwargs)


def test_collection_records_specimen_and_marks_collected(selected, collector):
    specimen = _collect(collector, selected)
    selected.refresh_from_db()
    assert selected.status == Selection.Status.COLLECTED
    assert specimen.collected_by == collector and specimen.specimen_type == "urine"


def test_collection_for_patient_not_selected_is_refused_without_reason(
    patient, collector, always_policy
):
    with pytest.raises(ValidationError) as exc:
        _collect(collector, patient=patient)
    assert "for_cause_reason" in exc.value.message_dict
    assert not Specimen.objects.exists() and not Selection.objects.exists()


def test_collection_for_patient_not_selected_becomes_for_cause_with_reason(
    patient, collector, always_policy
):
    specimen = _collect(collector, patient=patient, for_cause_reason="Appeared intoxicated")
    selection = specimen.selection
    assert selection.kind == Selection.Kind.FOR_CAUSE and selection.draw is None
    assert selection.reason == "Appeared intoxicated" and selection.ordered_by == collector


def test_temperature_out_of_range_needs_validity_outcome(selected, collector):
    with pytest.raises(ValidationError) as exc:
        _collect(collector, selected, temperature_in_range=False, validity="")
    assert "validity" in exc.value.message_dict
    assert not Specimen.objects.exists()


def test_temperature_out_of_range_needs_validity_in_the_database(selected, collector):
    with pytest.raises(IntegrityError), transaction.atomic():
        Specimen.objects.create(
            selection=selected,
            patient=selected.patient,
            collected_by=collector,
            collected_at=NOW,
            specimen_type="urine",
            observed=True,
            temperature_in_range=False,
            validity="",
            chain_of_custody_id="X1",
            method="poc",
        )


def test_urine_collection_needs_temperature(selected, collector):
    with pytest.raises(ValidationError) as exc:
        _collect(collector, selected, temperature_in_range=None)
    assert "temperature_in_range" in exc.value.message_dict


def test_duplicate_chain_of_custody_id_refused(selected, collector, make_patient, always_policy):
    _collect(collector, selected)
    other = make_patient()
    with pytest.raises(ValidationError) as exc:
        _collect(collector, patient=other, for_cause_reason="Smelled of alcohol")
    assert "chain_of_custody_id" in exc.value.message_dict
    assert Specimen.objects.count() == 1


def test_second_collection_for_same_test_refused(selected, collector):
    _collect(collector, selected)
    with pytest.raises(ValidationError):
        _collect(collector, selected, chain_of_custody_id="COC-2")


def test_observed_required_by_policy(selected, collector, always_policy):
    always_policy.observed_required = True
    always_policy.save()
    with pytest.raises(ValidationError) as exc:
        _collect(collector, selected, observed=False)
    assert "observed" in exc.value.message_dict


def test_invalid_specimen_sets_outcome_and_alert(selected, collector):
    _collect(collector, selected, temperature_in_range=False, validity="substituted")
    selected.refresh_from_db()
    assert selected.outcome == Outcome.INVALID
    assert TestAlert.objects.get().kind == TestAlert.Kind.INVALID_SPECIMEN


def test_refusal_recorded_as_refused_outcome(selected, collector):
    selection_refuse(actor=collector, selection=selected, now=LATER)
    selected.refresh_from_db()
    assert (selected.status, selected.outcome) == ("refused", Outcome.REFUSED)
    with pytest.raises(ValidationError):
        _collect(collector, selected)


def test_for_cause_needs_reason(patient, nurse, always_policy):
    with pytest.raises(ValidationError):
        for_cause_order(actor=nurse, patient=patient, reason="  ", now=NOW)


def test_for_cause_is_labelled_and_outside_draws(patient, nurse, always_policy):
    s = for_cause_order(actor=nurse, patient=patient, reason="Court request", now=NOW)
    assert s.kind == "for_cause" and s.draw_id is None


def test_for_cause_without_reason_refused_by_database(patient, nurse, always_policy):
    with pytest.raises(IntegrityError), transaction.atomic():
        Selection.objects.create(
            patient=patient,
            site=patient.site,
            date=NOW.date(),
            kind="for_cause",
            policy=always_policy,
            deadline=NOW,
            created_at=NOW,
        )


def test_excusing_a_selection_is_a_correction_that_leaves_the_draw_verifiable(selected, nurse):
    from io import StringIO

    from django.core.management import call_command

    from drugtests.services.random_draw import selection_excuse

    correction = selection_excuse(
        actor=nurse, selection=selected, reason="Admitted to hospital", now=LATER
    )
    selected.refresh_from_db()
    assert selected.status == "excused" and correction.draw_id == selected.draw_id
    out = StringIO()
    call_command("verify_draws", stdout=out)
    assert "every chain is intact" in out.getvalue()


def test_excuse_needs_reason(selected, nurse):
    from drugtests.services.random_draw import selection_excuse

    with pytest.raises(ValidationError):
        selection_excuse(actor=nurse, selection=selected, reason=" ", now=LATER)
    selected.refresh_from_db()
    assert selected.status == "pending"


def test_resolving_an_alert_records_who_and_when(selected, collector, nurse):
    from drugtests.services.results import alert_resolve

    _collect(collector, selected, temperature_in_range=False, validity="adulterated")
    alert = TestAlert.objects.get()
    assert alert_resolve(actor=nurse, alert=alert, note="Recollected observed", now=LATER) == 1
    assert alert_resolve(actor=nurse, alert=alert, note="again", now=LATER) == 0
    alert.refresh_from_db()
    assert (alert.resolved_by, alert.resolved_at, alert.resolution_note) == (
        nurse,
        LATER,
        "Recollected observed",
    )
