"""Real ORU^R01 messages in, through the service the command and the endpoint share:
the negative panel, a positive and its confirmation, an adulterated specimen, an
unmatched specimen id, a code the table lacks, a duplicate, a correction and a malformed
message, each with its ACK parsed back with hl7apy."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.models import AuditEvent
from drugtests.interpretation import effective_results
from drugtests.models import (
    AnalyteOutcome,
    Interpretation,
    Outcome,
    Specimen,
    TestAlert,
    TestResult,
    Via,
)
from labs.models import InboundMessage, InboundObservation
from tests.conftest import SCENARIO_NOW

from .conftest import ack_fields, parse_acks

pytestmark = [pytest.mark.django_db, pytest.mark.frozen(SCENARIO_NOW)]

Status = InboundMessage.Status
State = InboundObservation.State
SCREENED = {
    "opiates",
    "cocaine",
    "amphetamine",
    "methamphetamine",
    "thc",
    "benzodiazepines",
    "fentanyl",
    "buprenorphine",
}


def _merged(specimen: Specimen) -> dict:
    return effective_results(specimen.results.prefetch_related("analytes"))


def _alerts(specimen: Specimen) -> set[tuple[str, str]]:
    return set(TestAlert.objects.filter(specimen=specimen).values_list("kind", "analyte"))


def test_a_negative_panel_is_applied_as_a_typed_result_would_be(collect, receive, outcome_signals):
    specimen = collect("CC100201")
    [receipt] = receive("negative_panel.hl7")
    [ack] = parse_acks(receipt.ack)
    assert ack_fields(ack) == ("AA", "ACME20261118000101", "")
    # The ACK answers the sender: its MSH-5/6 are the laboratory's MSH-3/4.
    assert ack.msh.msh_5.to_er7() == "ACMELIS"
    assert ack.msh.msh_9.to_er7() == "ACK^R01^ACK"
    message = receipt.message
    assert (message.status, message.specimen) == (Status.APPLIED, specimen)
    assert bytes(message.raw).startswith(b"MSH|^~\\&|ACMELIS")
    states = list(message.observations.values_list("state", flat=True))
    assert states.count(State.APPLIED) == 8 and states.count(State.INFORMATION) == 2
    [result] = specimen.results.all()
    assert (result.source, result.via, result.entered_by) == ("lab", Via.INTERFACE, None)
    assert result.reference == "ACME20261118000101"
    assert "immunoassay" in result.lab_note
    merged = _merged(specimen)
    assert set(merged) == SCREENED
    assert {r.outcome for r in merged.values()} == {AnalyteOutcome.NEGATIVE}
    assert {r.interpretation for r in merged.values()} == {Interpretation.EXPECTED_NEGATIVE}
    opiates = merged["opiates"]
    assert (opiates.value_text, opiates.reference_range, opiates.abnormal_flag) == (
        "Negative",
        "2000 ng/mL",
        "N",
    )
    specimen.selection.refresh_from_db()
    assert specimen.selection.outcome == Outcome.NEGATIVE
    assert outcome_signals == [specimen.selection_id]
    assert _alerts(specimen) == set()
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"labs.message_received", "drugtests.result_entered"} <= actions


def test_a_positive_screen_then_its_confirmation(collect, receive):
    specimen = collect("CC100202")
    screen, confirmation = receive("positive_confirmed.hl7")
    assert [ack_fields(parse_acks(r.ack)[0])[0] for r in (screen, confirmation)] == ["AA", "AA"]
    assert specimen.results.count() == 2
    merged = _merged(specimen)
    cocaine = merged["cocaine"]
    # The confirmation is the reading that counts; the screen stays on its report.
    assert (cocaine.stage, cocaine.outcome) == ("confirmation", AnalyteOutcome.POSITIVE)
    assert (cocaine.ng_ml, cocaine.cutoff, cocaine.units) == (
        Decimal("352.0"),
        Decimal("100.00"),
        "ng/mL",
    )
    assert cocaine.interpretation == Interpretation.UNEXPECTED_POSITIVE
    assert "LC-MS/MS" in cocaine.note
    screened = specimen.results.first().analytes.get(analyte="cocaine")
    assert (screened.stage, screened.outcome, screened.superseded_by) == (
        "screen",
        AnalyteOutcome.POSITIVE,
        None,
    )
    assert "sent for confirmation" in screened.note
    specimen.selection.refresh_from_db()
    assert specimen.selection.outcome == Outcome.POSITIVE
    assert _alerts(specimen) == {("unexpected_positive", "cocaine")}


def test_a_confirmation_overturning_its_screen_makes_the_test_negative(collect, interface):
    from labs.models import Channel
    from labs.services.inbound import messages_receive

    from .conftest import read

    specimen = collect("CC100202")
    negative = read("positive_confirmed.hl7").split(b"MSH|")[2]
    data = b"MSH|" + read("positive_confirmed.hl7").split(b"MSH|")[1] + b"MSH|" + negative
    data = data.replace(b"|352|", b"|42|").replace(b"|<100|A|", b"|<100|N|")
    messages_receive(interface=interface, data=data, channel=Channel.FILE)
    assert _merged(specimen)["cocaine"].outcome == AnalyteOutcome.NEGATIVE
    specimen.selection.refresh_from_db()
    assert specimen.selection.outcome == Outcome.NEGATIVE


def test_an_adulterated_specimen_is_invalid_and_alerts(collect, receive, outcome_signals):
    specimen = collect("CC100203")
    [receipt] = receive("adulterated.hl7")
    assert ack_fields(parse_acks(receipt.ack)[0])[0] == "AA"
    specimen.refresh_from_db()
    assert specimen.validity == "adulterated"
    specimen.selection.refresh_from_db()
    assert specimen.selection.outcome == Outcome.INVALID
    assert _alerts(specimen) == {("invalid_specimen", "")}
    merged = _merged(specimen)
    assert {r.outcome for r in merged.values()} == {AnalyteOutcome.NOT_TESTED}
    assert "oxidizing adulterant" in specimen.results.get().lab_note
    assert receipt.message.validity_sent == "adulterated"
    assert specimen.selection_id in outcome_signals
    row = AuditEvent.objects.get(action="drugtests.specimen_validity_reported")
    assert (row.detail["from"], row.detail["to"]) == ("", "adulterated")


def test_an_unmatched_specimen_waits_then_applies_when_matched(collect, receive, client, nurse):
    specimen = collect("CC100204")  # the lab read CC100240
    [receipt] = receive("unmatched_specimen.hl7")
    assert ack_fields(parse_acks(receipt.ack)[0])[0] == "AA"
    message = receipt.message
    assert (message.status, message.specimen) == (Status.HELD, None)
    assert "CC100240" in message.review_note
    assert not TestResult.objects.exists()
    client.force_login(nurse)
    page = client.get("/labs/").content.decode()
    assert "CC100240" in page and "unmatched" in page
    wrong = client.post(f"/labs/messages/{message.pk}/match/", {"chain_of_custody_id": "CC1"})
    assert wrong.status_code == 422
    response = client.post(
        f"/labs/messages/{message.pk}/match/", {"chain_of_custody_id": "CC100204"}
    )
    assert response.status_code == 302
    message.refresh_from_db()
    assert (message.status, message.specimen, message.matched_by) == (
        Status.APPLIED,
        specimen,
        nurse,
    )
    result = specimen.results.get()
    assert (result.via, result.entered_by) == (Via.INTERFACE, nurse)
    assert set(_merged(specimen)) == SCREENED
    assert AuditEvent.objects.filter(action="labs.message_matched", actor=nurse).exists()


def test_a_code_the_table_lacks_waits_until_the_director_adds_it(
    collect, receive, client, director
):
    specimen = collect("CC100205")
    [receipt] = receive("unmapped_code.hl7")
    message = receipt.message
    assert message.status == Status.HELD
    held = message.observations.get(state=State.HELD)
    assert held.code == "XYLS" and "code table" in held.reason
    # The rest of the panel is on the specimen already.
    assert set(_merged(specimen)) == SCREENED
    client.force_login(director)
    response = client.post(
        "/labs/codes/",
        {
            "code": "XYLS",
            "display": "Xylazine screen, urine (Acme)",
            "kind": "screen",
            "analyte": "xylazine",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    message.refresh_from_db()
    assert message.status == Status.APPLIED
    xylazine = _merged(specimen)["xylazine"]
    assert (xylazine.outcome, xylazine.interpretation) == (
        AnalyteOutcome.POSITIVE,
        Interpretation.UNEXPECTED_POSITIVE,
    )
    assert ("unexpected_positive", "xylazine") in _alerts(specimen)
    row = AuditEvent.objects.get(action="labs.code_added")
    assert row.detail["messages_tried"] == [message.pk]


def test_the_same_message_sent_again_is_answered_again_and_adds_nothing(collect, receive):
    specimen = collect("CC100201")
    [first] = receive("negative_panel.hl7")  # MLLP, \r
    [again] = receive("duplicate.hl7")  # the same message as a plain file, \n
    assert again.repeated and again.message == first.message
    assert ack_fields(parse_acks(again.ack)[0]) == ("AA", "ACME20261118000101", "")
    assert InboundMessage.objects.count() == 1
    assert specimen.results.count() == 1
    assert AuditEvent.objects.filter(action="labs.message_repeated").count() == 1


def test_a_correction_supersedes_the_earlier_reading_and_keeps_it(collect, receive, client, nurse):
    specimen = collect("CC100201")
    receive("negative_panel.hl7")
    [receipt] = receive("correction.hl7")
    assert ack_fields(parse_acks(receipt.ack)[0])[0] == "AA"
    fentanyl = _merged(specimen)["fentanyl"]
    assert (fentanyl.outcome, fentanyl.status) == (AnalyteOutcome.POSITIVE, "corrected")
    earlier = specimen.results.order_by("entered_at", "pk").first().analytes.get(analyte="fentanyl")
    assert earlier.superseded_by == fentanyl
    assert earlier.outcome == AnalyteOutcome.NEGATIVE
    specimen.selection.refresh_from_db()
    assert specimen.selection.outcome == Outcome.POSITIVE
    assert _alerts(specimen) == {
        ("opioid_positive", "fentanyl"),
    }
    # The history is on the test's page: the superseded reading, struck through.
    client.force_login(nurse)
    page = client.get(f"/drugtests/tests/{specimen.selection_id}/").content.decode()
    assert 'data-testid="superseded"' in page
    assert "superseded by the corrected result" in page


def test_a_malformed_message_is_rejected_and_kept(receive):
    [receipt] = receive("malformed.hl7")
    assert receipt.message.status == Status.REJECTED
    assert ack_fields(parse_acks(receipt.ack)[0]) == ("AR", "ACME20261118000107", "100")
    assert "before its OBR" in receipt.message.review_note
    assert bytes(receipt.message.raw).startswith(b"MSH|")
    assert AuditEvent.objects.filter(action="labs.message_rejected").exists()
