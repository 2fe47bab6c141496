"""A laboratory's interface, specimens collected on the day the fixture messages name
(Tuesday 17 November 2026, 09:30 in New York), and helpers to read the ACKs.

The messages under ``messages/`` are ORU^R01 v2.5.1 in the shape reference labs send
(MSH, PID, ORC, OBR, NTE, OBX per analyte with LOINC codes, SPM), with literal dates: the
modules using them are frozen at the suite's scenario instant (Wednesday 18 November)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

NY = ZoneInfo("America/New_York")
MESSAGES = Path(__file__).resolve().parent / "messages"
COLLECTED = datetime(2026, 11, 17, 9, 30, tzinfo=NY)


def message_file(name: str) -> Path:
    return MESSAGES / name


def read(name: str) -> bytes:
    return message_file(name).read_bytes()


def parse_acks(text: str) -> list:
    """Each ACK in ``text`` parsed with hl7apy."""
    from hl7apy.parser import parse_message

    from labs.hl7 import decode, split_messages

    return [parse_message(decode(raw), find_groups=True) for raw in split_messages(text.encode())]


def ack_fields(ack) -> tuple[str, str, str]:
    """(MSA-1, MSA-2, ERR-3 code or '') of a parsed ACK."""
    err = ""
    if any(c.name == "ERR" for c in ack.children):
        err = ack.err.err_3.to_er7().split("^")[0]
    return ack.msa.msa_1.to_er7(), ack.msa.msa_2.to_er7(), err


@pytest.fixture
def lab_policy(site):
    from drugtests.models import DEFAULT_PANEL, TestingPolicy

    return TestingPolicy.objects.create(
        site=site, name="Site default", frequency=1, period="week", panel=list(DEFAULT_PANEL)
    )


@pytest.fixture
def lab(director):
    """The Acme reference laboratory's interface, and its token."""
    from labs.services.setup import interface_create

    return interface_create(
        actor=director, name="Acme Reference Lab", sending_facility="ACME REFERENCE LAB"
    )


@pytest.fixture
def interface(lab):
    return lab[0]


@pytest.fixture
def collect(patient, collector, lab_policy):
    """Record a specimen sent to the lab for ``patient`` (or another), collected at
    COLLECTED, as a walk-in for-cause test through drugtests' own service."""
    from drugtests.services.collection import specimen_collect

    def make(coc: str, who=None):
        return specimen_collect(
            actor=collector,
            patient=who or patient,
            for_cause_reason="Lab panel",
            chain_of_custody_id=coc,
            method="lab",
            observed=True,
            temperature_in_range=True,
            collected_at=COLLECTED,
            now=COLLECTED + timedelta(minutes=2),
        )

    return make


@pytest.fixture
def receive(interface):
    """Import a fixture file through the service the command and the endpoint share."""
    from labs.models import Channel
    from labs.services.inbound import messages_receive

    def run(name: str):
        return messages_receive(interface=interface, data=read(name), channel=Channel.FILE)

    return run


@pytest.fixture
def outcome_signals():
    """The selection ids drugtests' ``selection_outcome_changed`` was sent for."""
    from drugtests.signals import selection_outcome_changed

    seen: list[int] = []

    def receiver(sender, selection_ids, **kwargs):
        seen.extend(selection_ids)

    selection_outcome_changed.connect(receiver, dispatch_uid="tests.labs.outcome")
    yield seen
    selection_outcome_changed.disconnect(dispatch_uid="tests.labs.outcome")
