"""A message matched to a patient's specimen and waiting for review (a code the table
lacks), for the privacy walk over routes that take an id (tests/privacy)."""

from __future__ import annotations

from django.utils import timezone


def held_message(patient, collector, director):
    from drugtests.services.collection import specimen_collect
    from labs.models import Channel, InboundMessage, InboundObservation
    from labs.services.setup import interface_create

    now = timezone.now()
    specimen = specimen_collect(
        actor=collector,
        patient=patient,
        for_cause_reason="Lab panel",
        chain_of_custody_id="CC-ACCESS-1",
        method="lab",
        observed=True,
        temperature_in_range=True,
        now=now,
    )
    interface, _ = interface_create(actor=director, name="Access Lab", now=now)
    message = InboundMessage.objects.create(
        interface=interface,
        received_at=now,
        channel=Channel.FILE,
        key="ACCESS-1",
        raw=b"MSH|^~\\&|LAB|ACCESS LAB|||20261118||ORU^R01^ORU_R01|ACCESS-1|P|2.5.1\r",
        content_sha256="0" * 64,
        control_id="ACCESS-1",
        ack_code="AA",
        status=InboundMessage.Status.HELD,
        specimen=specimen,
        specimen_id_sent="CC-ACCESS-1",
        specimen_ids_sent=["CC-ACCESS-1"],
    )
    InboundObservation.objects.create(
        message=message,
        position=1,
        code="LOCAL-1",
        value="Positive",
        state=InboundObservation.State.HELD,
        reason="No entry in the code table for LOCAL-1.",
    )
    return message
