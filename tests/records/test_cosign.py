"""Co-signing: nobody co-signs their own work, only a licensed clinician co-signs, two
supervisors at once give one co-signature, a group note is co-signed in one action."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from core.models import AuditEvent
from records.models import GroupNote, ProgressNote, RecordStatus, Signature, SignerRole
from records.services.queue import group_note_cosign
from records.services.signoff import record_cosign
from tests.conftest import PASSWORD

from . import _queue_fixtures as fx
from ._queue_fixtures import make_group_note, make_note, make_plan_version, make_session

# Shared fixtures, named here so pytest finds them in this module.
supervision = fx.supervision
licensed_colleague = fx.licensed_colleague

pytestmark = pytest.mark.django_db


def _client(client, user):
    client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def waiting_note(supervision, counselor, patient, today, test_now):
    return make_note(author=counselor, patient=patient, service_date=today, signed_at=test_now)


def _messages(response):
    return [str(m) for m in response.wsgi_request._messages]


def test_supervisor_cosigns_a_note_from_the_route(client, supervision, waiting_note, director):
    response = _client(client, director).post(
        reverse("records:note_cosign", args=[waiting_note.pk])
    )
    assert response.status_code == 302
    waiting_note.refresh_from_db()
    assert waiting_note.status == RecordStatus.COSIGNED
    assert waiting_note.cosigned_by == director
    sig = Signature.objects.get(note=waiting_note, role=SignerRole.COSIGNER)
    assert sig.signer == director and sig.content_hash == waiting_note.content_hash
    assert AuditEvent.objects.filter(action="records.note.cosigned", actor=director).count() == 1


def test_nobody_cosigns_their_own_note_in_the_service(
    supervision, director, patient, today, test_now
):
    note = make_note(author=director, patient=patient, service_date=today, signed_at=test_now)
    with pytest.raises(ValidationError, match="own"):
        record_cosign(actor=director, target=note)
    note.refresh_from_db()
    assert note.status == RecordStatus.SIGNED and note.cosigned_by is None
    assert not Signature.objects.filter(note=note, role=SignerRole.COSIGNER).exists()


def test_nobody_cosigns_their_own_note_by_the_route(
    client, supervision, director, patient, today, test_now
):
    note = make_note(author=director, patient=patient, service_date=today, signed_at=test_now)
    response = _client(client, director).post(
        reverse("records:note_cosign", args=[note.pk]), follow=True
    )
    assert "Nobody co-signs their own note." in response.content.decode()
    note.refresh_from_db()
    assert note.status == RecordStatus.SIGNED and note.cosigned_at is None
    assert not Signature.objects.filter(note=note, role=SignerRole.COSIGNER).exists()


def test_an_unlicensed_clinician_cannot_cosign(client, supervision, waiting_note, other_counselor):
    response = _client(client, other_counselor).post(
        reverse("records:note_cosign", args=[waiting_note.pk]), follow=True
    )
    # The colleague may not see the counselor's patient at all, or is refused as
    # unlicensed: either way nothing changes.
    assert response.status_code in (200, 404)
    waiting_note.refresh_from_db()
    assert waiting_note.status == RecordStatus.SIGNED


def test_an_unlicensed_clinician_who_sees_the_chart_is_refused(supervision, waiting_note, nurse):
    profile = nurse.staff_profile
    profile.licensed = False
    profile.save()
    nurse.__dict__.pop("staff", None)
    with pytest.raises(ValidationError, match="licensed"):
        record_cosign(actor=nurse, target=waiting_note)
    waiting_note.refresh_from_db()
    assert waiting_note.status == RecordStatus.SIGNED


def test_two_supervisors_at_once_one_cosigns_the_other_is_refused(
    client, supervision, licensed_colleague, waiting_note, director, patient
):
    # Both loaded the note while it waited; the second click finds it co-signed.
    stale = ProgressNote.objects.get(pk=waiting_note.pk)
    record_cosign(actor=director, target=waiting_note)
    with pytest.raises(ValidationError, match="not waiting"):
        record_cosign(actor=licensed_colleague, target=stale)
    stale.refresh_from_db()
    assert stale.cosigned_by == director
    assert Signature.objects.filter(note=stale, role=SignerRole.COSIGNER).count() == 1


def test_the_second_supervisor_sees_a_clear_refusal(
    client, supervision, waiting_note, director, make_staff
):
    record_cosign(actor=director, target=waiting_note)
    second = make_staff("director2", "director", sites=[], is_staff=True)
    profile = second.staff_profile
    profile.licensed = True
    profile.save()
    response = _client(client, second).post(
        reverse("records:note_cosign", args=[waiting_note.pk]), follow=True
    )
    assert "This note is not waiting for a co-signature." in response.content.decode()
    waiting_note.refresh_from_db()
    assert waiting_note.cosigned_by == director


def test_a_supervisor_cosigns_a_plan_version(
    client, supervision, counselor, director, patient, test_now
):
    version = make_plan_version(author=counselor, patient=patient, signed_at=test_now)
    response = _client(client, director).post(reverse("records:plan_cosign", args=[version.pk]))
    assert response.status_code == 302
    version.refresh_from_db()
    assert version.status == RecordStatus.COSIGNED and version.cosigned_by == director
    assert Signature.objects.filter(plan_version=version, role=SignerRole.COSIGNER).count() == 1


def test_nobody_cosigns_their_own_plan(client, supervision, director, patient, test_now):
    version = make_plan_version(author=director, patient=patient, signed_at=test_now)
    response = _client(client, director).post(
        reverse("records:plan_cosign", args=[version.pk]), follow=True
    )
    assert "Nobody co-signs their own note." in response.content.decode()
    version.refresh_from_db()
    assert version.status == RecordStatus.SIGNED


def test_another_sites_counselor_gets_404_and_an_audit_row(
    client, supervision, waiting_note, outside_counselor
):
    profile = outside_counselor.staff_profile
    profile.licensed = True
    profile.save()
    response = _client(client, outside_counselor).post(
        reverse("records:note_cosign", args=[waiting_note.pk])
    )
    assert response.status_code == 404
    assert AuditEvent.objects.filter(
        action="records.note_view", outcome=AuditEvent.Outcome.DENIED
    ).exists()
    waiting_note.refresh_from_db()
    assert waiting_note.status == RecordStatus.SIGNED


def test_another_organisations_director_gets_404(client, waiting_note):
    from django.contrib.auth.models import Group

    from core.models import Organization, Site, StaffProfile, User
    from core.roles import role_group_name

    org = Organization.objects.create(name="Elsewhere", mrn_prefix="EW")
    Site.objects.create(organization=org, name="Far", code="far", time_zone="America/Chicago")
    user = User.objects.create_user(username="far_director", password=PASSWORD)
    StaffProfile.objects.create(user=user, organization=org, role="director", licensed=True)
    user.groups.add(Group.objects.get(name=role_group_name("director")))
    response = _client(client, user).post(reverse("records:note_cosign", args=[waiting_note.pk]))
    assert response.status_code == 404
    waiting_note.refresh_from_db()
    assert waiting_note.status == RecordStatus.SIGNED


def test_front_desk_may_not_cosign(client, waiting_note, frontdesk):
    response = _client(client, frontdesk).post(
        reverse("records:note_cosign", args=[waiting_note.pk])
    )
    assert response.status_code == 403
    waiting_note.refresh_from_db()
    assert waiting_note.status == RecordStatus.SIGNED


# --- group notes -------------------------------------------------------------------


@pytest.fixture
def signed_group(supervision, counselor, track, make_patient, today, test_now):
    people = [make_patient(track=track) for _ in range(4)]
    statuses = dict(zip(people, ["present", "present", "present", "unexcused"], strict=True))
    session = make_session(
        track=track,
        facilitator=counselor,
        day=today - timedelta(days=1),
        statuses=statuses,
    )
    return make_group_note(session=session, author=counselor, signed_at=test_now)


def test_group_cosign_cosigns_every_attendee_note(supervision, signed_group, director):
    notes = group_note_cosign(actor=director, group_note=signed_group)
    assert len(notes) == 3
    signed_group.refresh_from_db()
    assert signed_group.status == RecordStatus.COSIGNED
    rows = ProgressNote.objects.filter(group_note=signed_group)
    assert {n.status for n in rows} == {RecordStatus.COSIGNED}
    assert {n.cosigned_by_id for n in rows} == {director.pk}
    assert (
        Signature.objects.filter(note__group_note=signed_group, role=SignerRole.COSIGNER).count()
        == 3
    )
    assert AuditEvent.objects.filter(action="records.note.cosigned").count() == 3
    assert AuditEvent.objects.filter(action="records.group_note.cosigned").count() == 1


def test_group_cosign_route(client, supervision, signed_group, director):
    response = _client(client, director).post(
        reverse("records:group_cosign", args=[signed_group.pk])
    )
    assert response.status_code == 302
    signed_group.refresh_from_db()
    assert signed_group.status == RecordStatus.COSIGNED


def test_group_cosign_twice_is_refused_clearly(
    client, supervision, signed_group, director, licensed_colleague
):
    group_note_cosign(actor=director, group_note=signed_group)
    stale = GroupNote.objects.get(pk=signed_group.pk)
    stale.status = RecordStatus.SIGNED  # as the second supervisor's page still shows it
    with pytest.raises(ValidationError, match="not waiting"):
        group_note_cosign(actor=licensed_colleague, group_note=stale)
    assert (
        Signature.objects.filter(note__group_note=signed_group, role=SignerRole.COSIGNER).count()
        == 3
    )


def test_nobody_cosigns_their_own_group_note(client, supervision, signed_group, counselor):
    response = _client(client, counselor).post(
        reverse("records:group_cosign", args=[signed_group.pk]), follow=True
    )
    assert "Nobody co-signs their own note." in response.content.decode()
    signed_group.refresh_from_db()
    assert signed_group.status == RecordStatus.SIGNED
    assert not ProgressNote.objects.filter(
        group_note=signed_group, status=RecordStatus.COSIGNED
    ).exists()


def test_group_cosign_by_another_site_is_404(client, supervision, signed_group, outside_counselor):
    response = _client(client, outside_counselor).post(
        reverse("records:group_cosign", args=[signed_group.pk])
    )
    assert response.status_code == 404
    signed_group.refresh_from_db()
    assert signed_group.status == RecordStatus.SIGNED


@pytest.mark.django_db(transaction=True)
def test_two_supervisors_in_two_connections_give_one_cosignature(
    supervision, licensed_colleague, counselor, patient, today, test_now
):
    """The first co-signer's transaction holds the row while the second one's UPDATE
    waits for it, then finds the note co-signed (PostgreSQL; SQLite serialises writers)."""
    import threading

    from django.db import connection, transaction

    note = make_note(author=counselor, patient=patient, service_date=today, signed_at=test_now)
    first_updated = threading.Event()
    results: dict[str, str] = {}

    def first() -> None:
        try:
            with transaction.atomic():
                record_cosign(actor=supervision, target=ProgressNote.objects.get(pk=note.pk))
                first_updated.set()
                # Hold the transaction open while the second supervisor tries.
                threading.Event().wait(0.5)
            results["first"] = "co-signed"
        except ValidationError as exc:
            results["first"] = " ".join(exc.messages)
        finally:
            first_updated.set()
            connection.close()

    def second() -> None:
        first_updated.wait(5)
        try:
            record_cosign(actor=licensed_colleague, target=ProgressNote.objects.get(pk=note.pk))
            results["second"] = "co-signed"
        except ValidationError as exc:
            results["second"] = " ".join(exc.messages)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(15)
    assert results == {
        "first": "co-signed",
        "second": "This note is not waiting for a co-signature.",
    }
    note.refresh_from_db()
    assert note.cosigned_by == supervision
    assert Signature.objects.filter(note=note, role=SignerRole.COSIGNER).count() == 1


def test_the_last_attendee_note_cosigned_alone_closes_its_group(
    client, supervision, signed_group, director
):
    notes = list(ProgressNote.objects.filter(group_note=signed_group).order_by("pk"))
    c = _client(client, director)
    for note in notes[:-1]:
        c.post(reverse("records:note_cosign", args=[note.pk]))
        signed_group.refresh_from_db()
        assert signed_group.status == RecordStatus.SIGNED
    c.post(reverse("records:note_cosign", args=[notes[-1].pk]))
    signed_group.refresh_from_db()
    assert signed_group.status == RecordStatus.COSIGNED
    assert AuditEvent.objects.filter(action="records.group_note.cosigned").count() == 1
