"""The two ways in: the laboratory's HTTP endpoint (bearer token, no session, no CSRF)
and ``manage.py import_hl7``; both answer an ACK per message."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from core.models import AuditEvent
from labs.models import InboundMessage
from tests.conftest import SCENARIO_NOW

from .conftest import ack_fields, message_file, parse_acks, read

pytestmark = [pytest.mark.django_db, pytest.mark.frozen(SCENARIO_NOW)]

HL7 = "x-application/hl7-v2+er7"


def _post(client: Client, pk: int, body: bytes, token: str | None):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return client.post(f"/labs/inbound/{pk}/", data=body, content_type=HL7, headers=headers)


def test_the_endpoint_answers_an_ack_per_message_with_the_token(lab, collect):
    interface, token = lab
    collect("CC100202")
    # A browser's CSRF check would refuse this post; the endpoint is for servers.
    client = Client(enforce_csrf_checks=True)
    response = _post(client, interface.pk, read("positive_confirmed.hl7"), token)
    assert response.status_code == 200
    assert response["Content-Type"].startswith(HL7)
    acks = parse_acks(response.content.decode())
    assert [ack_fields(a) for a in acks] == [
        ("AA", "ACME20261118000102", ""),
        ("AA", "ACME20261119091502", ""),
    ]
    assert InboundMessage.objects.filter(interface=interface, channel="http").count() == 2
    assert "sessionid" not in response.cookies


@pytest.mark.parametrize("token", ["wrong-token", "", None])
def test_a_bad_or_missing_token_is_refused_and_stores_nothing(lab, token):
    interface, _ = lab
    response = _post(Client(), interface.pk, read("negative_panel.hl7"), token)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert not InboundMessage.objects.exists()
    assert AuditEvent.objects.filter(action="labs.inbound_refused", outcome="denied").exists()


def test_a_token_works_for_its_own_interface_only_and_not_once_replaced(lab, director):
    from labs.services.setup import interface_create, interface_token_issue

    interface, token = lab
    other, other_token = interface_create(actor=director, name="Other Lab")
    body = read("negative_panel.hl7")
    assert _post(Client(), other.pk, body, token).status_code == 401
    assert _post(Client(), interface.pk, body, other_token).status_code == 401
    interface_token_issue(actor=director, interface=interface)
    assert _post(Client(), interface.pk, body, token).status_code == 401
    assert not InboundMessage.objects.exists()
    # Only the hash is kept.
    interface.refresh_from_db()
    assert token not in interface.token_hash and len(interface.token_hash) == 64


def test_the_endpoint_takes_posts_only_and_says_so_for_an_empty_body(lab):
    interface, token = lab
    assert Client().get(f"/labs/inbound/{interface.pk}/").status_code == 405
    assert _post(Client(), interface.pk, b"   ", token).status_code == 400


def test_the_command_prints_a_line_per_message_and_the_acks(lab, collect):
    collect("CC100201")
    out = io.StringIO()
    call_command(
        "import_hl7",
        str(message_file("negative_panel.hl7")),
        str(message_file("duplicate.hl7")),
        "--acks",
        stdout=out,
    )
    text = out.getvalue()
    assert "negative_panel.hl7 #1 ACME20261118000101: AA applied" in text
    assert "duplicate.hl7 #1 ACME20261118000101: AA applied (sent before" in text
    acks = [line for line in text.splitlines() if line.startswith(("MSH", "MSA"))]
    assert acks.count("MSA|AA|ACME20261118000101") == 2
    assert "2 message(s), 2 accepted (AA)." in text


def test_the_command_exits_non_zero_when_a_message_is_rejected(lab):
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 message") as raised:
        call_command("import_hl7", str(message_file("malformed.hl7")), stdout=out)
    assert raised.value.returncode == 1
    assert "ACME20261118000107: AR rejected" in out.getvalue()


def test_the_command_reads_every_file_before_importing_any(lab, tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command(
            "import_hl7", str(message_file("negative_panel.hl7")), str(tmp_path / "missing.hl7")
        )
    with pytest.raises(CommandError, match="is a folder"):
        call_command("import_hl7", str(tmp_path))
    assert not InboundMessage.objects.exists()


def test_the_command_needs_the_lab_named_when_several_receive(lab, director):
    from labs.services.setup import interface_create

    interface_create(actor=director, name="Other Lab")
    with pytest.raises(CommandError, match="--lab"):
        call_command("import_hl7", str(message_file("malformed.hl7")))
    with pytest.raises(CommandError, match="No receiving laboratory"):
        call_command("import_hl7", str(message_file("malformed.hl7")), "--lab", "Nobody")
