"""Reading messages: framing, hl7apy's parse into a report, values against cut-offs,
validity findings; and the refusals a result message gets (AR) with their codes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from labs.hl7 import Malformed, decode, parse_report, parse_time, split_messages
from labs.reading import cutoff_from_range, numeric_outcome, text_outcome, validity_from_text

from .conftest import read

pytestmark = pytest.mark.django_db


def _report(name: str, index: int = 0):
    return parse_report(decode(split_messages(read(name))[index]))


def test_framing_mllp_and_plain_files_give_the_same_message():
    framed = split_messages(read("negative_panel.hl7"))
    plain = split_messages(read("duplicate.hl7"))
    assert len(framed) == len(plain) == 1
    assert b"\x0b" not in framed[0] and b"\x1c" not in framed[0]
    assert decode(framed[0]).rstrip("\r") == decode(plain[0]).rstrip("\r")
    assert len(split_messages(read("positive_confirmed.hl7"))) == 2
    batch = b"FHS|^~\\&\nBHS|^~\\&\n" + read("duplicate.hl7") + b"BTS|1\nFTS|1\n"
    assert len(split_messages(batch)) == 1
    assert split_messages(b"\x0bnot hl7\x1c\r") == [b"not hl7"]


def test_a_report_holds_what_the_lab_sent():
    report = _report("positive_confirmed.hl7")
    assert report.header.control_id == "ACME20261118000102"
    assert report.header.sending_facility == "ACME REFERENCE LAB"
    assert report.specimen_ids[0] == "CC100202"  # SPM-2, the placer's id, first
    assert "A26-7781202" in report.specimen_ids
    assert (report.family_name, report.given_name) == ("OWNER", "ROBIN")
    assert str(report.birth_date) == "1990-05-17"
    assert report.collected is not None and report.collected.instant is not None
    assert report.collected.instant.isoformat() == "2026-11-17T14:30:00+00:00"
    assert len(report.observations) == 10
    cocaine = report.observations[1]
    assert (cocaine.code, cocaine.value_code, cocaine.value) == ("3393-6", "10828004", "Positive")
    assert cocaine.abnormal_flags == ["A"] and cocaine.status == "F"
    assert cocaine.notes == ["Presumptive positive; sent for confirmation."]
    confirmation = _report("positive_confirmed.hl7", 1).observations[0]
    assert (confirmation.value_type, confirmation.number, confirmation.units) == (
        "NM",
        Decimal("352"),
        "ng/mL",
    )


def test_the_adulterated_specimen_carries_its_condition():
    report = _report("adulterated.hl7")
    assert "Adulterated" in report.condition
    assert validity_from_text(report.condition) == "adulterated"
    assert {o.status for o in report.observations[:8]} == {"X"}


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ((b"ORU^R01^ORU_R01", b"ADT^A01^ADT_A01"), "200"),
        ((b"ORU^R01^ORU_R01", b"ORU^R30^ORU_R30"), "201"),
        ((b"|P|2.5.1|", b"|T|2.5.1|"), "202"),
        ((b"|P|2.5.1|", b"|P|2.3|"), "203"),
        ((b"|ACME20261118000101|", b"||"), "101"),
        ((b"|19900517|", b"|1990-05-17|"), "102"),
    ],
)
def test_what_is_not_a_result_message_we_read_is_refused_with_its_code(change, code):
    raw = split_messages(read("duplicate.hl7"))[0].replace(*change)
    with pytest.raises(Malformed) as refused:
        parse_report(decode(raw))
    assert refused.value.code == code


def test_escapes_and_times():
    assert parse_time("20261117").instant is None
    assert parse_time("202611170930-0800").instant.isoformat() == "2026-11-17T17:30:00+00:00"
    with pytest.raises(ValueError):
        parse_time("00010101")
    raw = split_messages(read("duplicate.hl7"))[0].replace(
        b"Screening by immunoassay;", b"Fish \\T\\ chips\\.br\\line"
    )
    assert parse_report(decode(raw)).notes[0].startswith("Fish & chips\nline")


@pytest.mark.parametrize(
    ("number", "comparator", "reference", "default", "flags", "outcome"),
    [
        ("352", "", "<100", None, [], "positive"),
        ("99", "", "<100", None, [], "negative"),
        ("100", "", "100 ng/mL", None, [], "positive"),  # at the cut-off is positive
        ("100", "<", "", "100", [], "negative"),
        ("2500", ">", "cutoff 2000", None, [], "positive"),
        ("40", "", "", "50", [], "negative"),
        ("40", "", "", None, ["A"], "positive"),
        ("40", "", "", None, [], None),
        ("300", "<", "100", None, [], None),  # "below 300" says nothing about 100
    ],
)
def test_a_concentration_against_its_cutoff(number, comparator, reference, default, flags, outcome):
    verdict = numeric_outcome(
        Decimal(number),
        comparator,
        reference_range=reference,
        units="ng/mL",
        default_cutoff=Decimal(default) if default else None,
        flags=flags,
    )
    assert verdict.outcome == outcome


def test_words_and_findings():
    assert text_outcome("260385009", "Negative") == "negative"
    assert text_outcome("", "NOT DETECTED") == "negative"
    assert text_outcome("POS") == "positive"
    assert text_outcome("", "Test not performed") == "not_tested"
    assert text_outcome("maybe") is None
    assert cutoff_from_range("0-99") == Decimal("99")
    assert validity_from_text("INVALID RESULT: interference") == "invalid"
    assert validity_from_text("Substituted; creatinine < 2") == "substituted"
    assert validity_from_text("Specimen valid") == "valid"
    assert validity_from_text("Rejected: seal broken", "adulterated") == "rejected"


def test_the_standard_codes_come_back_after_a_flush():
    """A transactional test's flush empties the table and sends post_migrate, as migrate
    does; every later import would otherwise find no code."""
    from django.apps import apps
    from django.db.models.signals import post_migrate

    from labs.models import AnalyteCode
    from labs.standard_codes import CODES

    AnalyteCode.objects.all().delete()
    post_migrate.send(sender=apps.get_app_config("labs"), app_config=apps.get_app_config("labs"))
    assert AnalyteCode.objects.filter(organization=None).count() == len(CODES)
