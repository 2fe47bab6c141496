"""The review queue and the director's screens: who may open them (staff roles only;
the owner's organisation and sites, never another's), closing a message with a reason,
the code table and the laboratories with their tokens, and the queue's pinned queries."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.models import AuditEvent
from labs.models import AnalyteCode, InboundMessage, LabInterface
from tests.conftest import SCENARIO_NOW

pytestmark = [pytest.mark.django_db, pytest.mark.frozen(SCENARIO_NOW)]
Status = InboundMessage.Status


@pytest.fixture
def waiting(receive):
    """An unmatched message on the queue (no specimen CC100240 exists)."""
    [receipt] = receive("unmatched_specimen.hl7")
    return receipt.message


@pytest.fixture
def matched(collect, receive):
    """A message waiting with its specimen matched (a code the table lacks)."""
    collect("CC100205")
    [receipt] = receive("unmapped_code.hl7")
    return receipt.message


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("director", 200),
        ("nurse", 200),
        ("counselor", 403),
        ("frontdesk", 403),
        ("collector", 403),
    ],
)
def test_the_queue_is_for_the_staff_who_enter_lab_results(client, request, waiting, who, status):
    user = request.getfixturevalue(who)
    client.force_login(user)
    assert client.get(reverse("labs:queue")).status_code == status
    assert client.get(reverse("labs:message", args=[waiting.pk])).status_code == status


def test_a_patient_and_an_anonymous_visitor_get_nothing(client, waiting, patient):
    response = client.get(reverse("labs:queue"))
    assert response.status_code == 302 and "/accounts/login/" in response.url
    client.force_login(patient.user)
    assert client.get(reverse("labs:queue")).status_code == 404
    assert client.post(reverse("labs:close", args=[waiting.pk]), {"reason": "x"}).status_code == 404
    waiting.refresh_from_db()
    assert waiting.status == Status.HELD


def test_another_organisations_director_sees_none_of_it(client, waiting):
    from tests.hostile.test_hostile_input import _make_outsider_org

    outsider = _make_outsider_org()["director"]
    client.force_login(outsider)
    assert waiting.control_id not in client.get(reverse("labs:queue")).content.decode()
    assert client.get(reverse("labs:message", args=[waiting.pk])).status_code == 404
    response = client.post(reverse("labs:close", args=[waiting.pk]), {"reason": "not ours"})
    assert response.status_code == 404
    waiting.refresh_from_db()
    assert waiting.status == Status.HELD
    assert AuditEvent.objects.filter(
        action="labs.message_view", outcome="denied", actor=outsider
    ).exists()


def test_a_colleague_at_another_site_does_not_see_a_matched_message(
    client, matched, make_staff, other_site, nurse
):
    west_nurse = make_staff("nurse_west", "medical", sites=[other_site])
    client.force_login(west_nurse)
    assert client.get(reverse("labs:message", args=[matched.pk])).status_code == 404
    client.force_login(nurse)  # the owner's site
    assert client.get(reverse("labs:message", args=[matched.pk])).status_code == 200


def test_matching_refuses_a_specimen_the_user_cannot_see(
    client, waiting, collect, make_patient, make_staff, other_site
):
    from drugtests.models import TestingPolicy

    TestingPolicy.objects.create(
        site=other_site, name="West default", frequency=1, period="week", panel=["cocaine"]
    )
    west = make_patient(first="Wes", last="Owner", at_site=other_site)
    collect("CC100204", who=west)
    nurse = make_staff("nurse_east", "medical")  # this site only
    client.force_login(nurse)
    response = client.post(
        reverse("labs:match", args=[waiting.pk]), {"chain_of_custody_id": "CC100204"}
    )
    assert response.status_code == 422
    waiting.refresh_from_db()
    assert (waiting.status, waiting.specimen) == (Status.HELD, None)


def test_closing_needs_a_reason_and_keeps_the_message(client, waiting, nurse):
    client.force_login(nurse)
    url = reverse("labs:close", args=[waiting.pk])
    assert client.post(url, {"reason": ""}).status_code == 422
    assert (
        client.post(url, {"reason": "Not our patient: the lab sent it to us in error."}).status_code
        == 302
    )
    waiting.refresh_from_db()
    assert (waiting.status, waiting.closed_by) == (Status.CLOSED, nurse)
    assert set(waiting.observations.values_list("state", flat=True)) == {"closed"}
    assert InboundMessage.objects.filter(pk=waiting.pk).exists()
    assert AuditEvent.objects.filter(action="labs.message_closed", actor=nurse).exists()


def test_retry_applies_after_the_code_gets_a_default_cutoff(
    client, collect, interface, nurse, director
):
    """A concentration with no reference range waits for a cut-off; the director gives
    the code one, and trying the message again applies it."""
    from labs.models import Channel
    from labs.services.inbound import messages_receive
    from labs.services.setup import code_save

    from .conftest import read

    specimen = collect("CC100202")
    data = read("positive_confirmed.hl7").split(b"MSH|")[2]
    data = b"MSH|" + data.replace(b"|<100|A|", b"|||").replace(b"14315-6", b"99999-9")
    [receipt] = messages_receive(interface=interface, data=data, channel=Channel.FILE)
    assert receipt.message.status == Status.HELD  # no code 99999-9
    code_save(actor=nurse, code="99999-9", kind="confirmation", analyte="cocaine")
    message = InboundMessage.objects.get(pk=receipt.message.pk)
    assert message.status == Status.HELD
    assert "cut-off" in message.observations.get().reason
    row = AnalyteCode.objects.get(code="99999-9")
    client.force_login(director)
    client.post(
        reverse("labs:code", args=[row.pk]),
        {
            "code": "99999-9",
            "kind": "confirmation",
            "analyte": "cocaine",
            "default_cutoff": "100",
            "is_active": "on",
        },
    )
    client.force_login(nurse)
    assert client.post(reverse("labs:retry", args=[message.pk])).status_code == 302
    message.refresh_from_db()
    assert message.status == Status.APPLIED
    reading = specimen.results.get().analytes.get()
    assert (reading.outcome, reading.cutoff) == ("positive", 100)


def test_the_code_table_is_the_directors_and_code_for_answers_from_it(client, director, nurse, org):
    from drugtests.loinc import code_for
    from labs.services.inbound import codes_for
    from tests.hostile.test_hostile_input import _make_outsider_org

    assert code_for("cocaine") == ("3393-6", "Benzoylecgonine [Presence] in Urine")
    assert code_for("cocaine", confirmation=True).code == "14315-6"
    assert code_for("xylazine") is None
    client.force_login(nurse)
    assert client.get(reverse("labs:codes")).status_code == 403
    client.force_login(director)
    assert "19295-5" in client.get(reverse("labs:codes")).content.decode()
    standard = AnalyteCode.objects.get(code="19359-9", organization=None)
    assert client.get(reverse("labs:code", args=[standard.pk])).status_code == 404
    # The organisation reads a standard code its own way (here: not at all).
    response = client.post(
        reverse("labs:codes"), {"code": "19359-9", "kind": "screen", "analyte": "cocaine"}
    )
    assert response.status_code == 302
    own = AnalyteCode.objects.get(code="19359-9", organization=org)
    assert not own.is_active
    assert "19359-9" not in codes_for(org.pk, {"19359-9"})
    other_org = _make_outsider_org()["org"]
    assert codes_for(other_org.pk, {"19359-9"})["19359-9"] == standard
    assert code_for("cocaine").code == "3393-6"  # exports name the standard codes
    again = client.post(
        reverse("labs:codes"), {"code": "19359-9", "kind": "screen", "analyte": "cocaine"}
    )
    assert again.status_code == 422
    client.post(
        reverse("labs:code", args=[own.pk]),
        {"code": "19359-9", "kind": "screen", "analyte": "cocaine", "is_active": "on"},
    )
    assert codes_for(org.pk, {"19359-9"})["19359-9"] == own
    changed = AuditEvent.objects.get(action="labs.code_changed")
    assert changed.actor == director and changed.detail["fields"] == ["is_active"]


def test_the_director_adds_a_laboratory_and_sees_its_token_once(client, director, nurse):
    client.force_login(nurse)
    assert client.get(reverse("labs:interfaces")).status_code == 403
    client.force_login(director)
    response = client.post(
        reverse("labs:interfaces"), {"name": "Bayside Toxicology", "sending_facility": "BAYTOX"}
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    interface = LabInterface.objects.get(name="Bayside Toxicology")
    token = page.split("Authorization: Bearer ")[1].split("<")[0].strip()
    from labs.tokens import token_hash

    assert interface.token_hash == token_hash(token)
    assert token not in client.get(reverse("labs:interface", args=[interface.pk])).content.decode()
    assert AuditEvent.objects.filter(action="labs.interface_added", actor=director).exists()


def test_the_queue_page_runs_a_fixed_number_of_queries(
    client, nurse, interface, django_assert_max_num_queries
):
    from labs.models import Channel
    from labs.services.inbound import messages_receive

    from .conftest import read

    body = read("unmatched_specimen.hl7")
    client.force_login(nurse)
    url = reverse("labs:queue")
    client.get(url)  # warm per-process caches
    counts = []
    for n in range(1, 7):
        data = body.replace(b"ACME20261118000104", f"ACME-Q{n}".encode())
        messages_receive(interface=interface, data=data, channel=Channel.FILE)
        if n in (1, 6):
            # The session, the user, their staff profile, the waiting messages with their
            # counts (one query), the recent ones.
            with django_assert_max_num_queries(5) as captured:
                assert client.get(url).status_code == 200
            counts.append(len(captured))
    assert counts[0] == counts[1]


def test_another_organisations_director_cannot_open_or_rekey_a_laboratory(client, interface):
    from tests.hostile.test_hostile_input import _make_outsider_org

    before = interface.token_hash
    client.force_login(_make_outsider_org()["director"])
    assert client.get(reverse("labs:interface", args=[interface.pk])).status_code == 404
    assert client.post(reverse("labs:interface_token", args=[interface.pk])).status_code == 404
    assert "Acme" not in client.get(reverse("labs:interfaces")).content.decode()
    interface.refresh_from_db()
    assert interface.token_hash == before
