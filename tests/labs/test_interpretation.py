"""An imported result is interpreted and alerts exactly as a typed one: the patient's
MAT ("prescribed but absent"), unexpected and opioid positives, a rejected specimen,
and contingency management through drugtests' signal."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from drugtests.models import Interpretation, Outcome, TestAlert
from drugtests.services.results import result_enter
from labs.models import Channel, InboundMessage
from labs.services.inbound import messages_receive
from tests.conftest import SCENARIO_NOW

from .conftest import COLLECTED, read

pytestmark = [pytest.mark.django_db, pytest.mark.frozen(SCENARIO_NOW)]


def _alerts(selection_id: int) -> set[tuple[str, str]]:
    return set(TestAlert.objects.filter(selection_id=selection_id).values_list("kind", "analyte"))


def test_buprenorphine_absent_from_a_patient_on_it_is_flagged(collect, receive, patient, nurse):
    from patients.services.medication import medication_order_create

    medication_order_create(
        actor=nurse,
        patient=patient,
        medication="buprenorphine_naloxone",
        dose="8 mg/2 mg",
        frequency="daily",
        prescriber="Dr. A",
        start_date=date(2026, 11, 1),
    )
    specimen = collect("CC100201")
    receive("negative_panel.hl7")
    row = specimen.results.get().analytes.get(analyte="buprenorphine")
    assert row.interpretation == Interpretation.PRESCRIBED_ABSENT
    assert _alerts(specimen.selection_id) == {("prescribed_absent", "buprenorphine")}


def test_an_imported_positive_raises_the_same_alerts_as_a_typed_one(
    collect, receive, nurse, make_patient
):
    typed_patient = make_patient(first="Tai", last="Typed")
    typed = collect("CC900001", who=typed_patient)
    result_enter(
        actor=nurse,
        selection=typed.selection,
        source="lab",
        analytes={"fentanyl": ("positive", None), "cocaine": ("negative", None)},
        now=COLLECTED + timedelta(days=1),
    )
    imported = collect("CC100201")
    receive("negative_panel.hl7")
    receive("correction.hl7")  # the fentanyl screen corrected to positive
    assert (
        _alerts(imported.selection_id)
        == _alerts(typed.selection_id)
        == {("opioid_positive", "fentanyl")}
    )
    # The staff home's queue words them the same way.
    from drugtests.alerts import _message

    words = {
        _message(a).replace(a.selection.date.strftime("%b %-d"), "DAY")
        for a in TestAlert.objects.select_related("selection")
    }
    assert len(words) == 1  # the imported and the typed finding read the same


def test_a_rejected_specimen_counts_for_nothing_and_asks_for_a_recollection(
    collect, interface, outcome_signals
):
    specimen = collect("CC100201")
    raw = read("duplicate.hl7")
    head, rest = raw.split(b"OBX|1|", 1)
    spm = rest[rest.index(b"SPM|") :].rstrip(b"\n")
    data = head.replace(b"|||F\n", b"|||X\n") + spm + b"||||RB^Broken container^HL70490\n"
    [receipt] = messages_receive(interface=interface, data=data, channel=Channel.FILE)
    assert receipt.message.status == InboundMessage.Status.APPLIED
    specimen.refresh_from_db()
    specimen.selection.refresh_from_db()
    assert specimen.validity == "rejected"
    assert specimen.selection.outcome == ""
    assert _alerts(specimen.selection_id) == {("specimen_rejected", "")}
    assert specimen.selection_id in outcome_signals


def test_a_second_final_result_that_differs_waits_for_a_person(collect, interface):
    specimen = collect("CC100201")
    messages_receive(interface=interface, data=read("negative_panel.hl7"), channel=Channel.FILE)
    changed = read("correction.hl7").replace(b"ACME20261119140001", b"ACME-RESENT")
    changed = changed.replace(b"|||C|||", b"|||F|||")
    [receipt] = messages_receive(interface=interface, data=changed, channel=Channel.FILE)
    assert receipt.message.status == InboundMessage.Status.HELD
    assert "without being marked corrected" in receipt.message.observations.get().reason
    assert specimen.results.count() == 1
    # The same final result sent again under a new control id adds nothing either.
    same = read("negative_panel.hl7").replace(b"ACME20261118000101", b"ACME-AGAIN")
    [again] = messages_receive(interface=interface, data=same, channel=Channel.FILE)
    assert again.message.status == InboundMessage.Status.APPLIED
    assert set(again.message.observations.values_list("state", flat=True)) == {
        "repeat",
        "information",
    }
    assert specimen.results.count() == 1


def test_a_message_from_another_facility_is_refused(interface):
    data = read("duplicate.hl7").replace(b"ACME REFERENCE LAB^", b"SOMEONE ELSE^")
    [receipt] = messages_receive(interface=interface, data=data, channel=Channel.FILE)
    assert (receipt.message.ack_code, receipt.message.status) == ("AR", "rejected")


def test_a_lab_result_reaches_the_cm_ledger_through_the_drugtests_signal(
    collect, receive, patient, counselor, site, outcome_signals, test_now
):
    from contingency.models import LedgerEntry, Program
    from contingency.services.ledger import cm_enroll, selections_evaluate

    program = Program.objects.create(site=site, name="Stimulant CM", created_at=test_now)
    cm_enroll(
        actor=counselor,
        program=program,
        patient=patient,
        starts_on=date(2026, 11, 16),
        now=COLLECTED - timedelta(days=1),
    )
    specimen = collect("CC100201")
    receive("negative_panel.hl7")
    assert outcome_signals == [specimen.selection_id]
    # What contingency's receiver queues on commit for those ids (its task's body).
    assert selections_evaluate(selection_ids=outcome_signals) == 1
    entry = LedgerEntry.objects.get(selection=specimen.selection)
    assert (entry.kind, entry.reason) == ("earned", "negative")
    specimen.selection.refresh_from_db()
    assert specimen.selection.outcome == Outcome.NEGATIVE


def test_the_sending_facility_may_be_named_by_its_clia_number(director, collect):
    from labs.services.setup import interface_create

    interface, _ = interface_create(actor=director, name="By CLIA", sending_facility="05D0999999")
    collect("CC100201")
    [receipt] = messages_receive(
        interface=interface, data=read("negative_panel.hl7"), channel=Channel.FILE
    )
    assert receipt.message.ack_code == "AA"
