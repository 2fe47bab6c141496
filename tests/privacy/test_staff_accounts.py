"""The director's staff-accounts page: who is locked out, MFA, last login; early unlock."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.models import AuditEvent, Organization, StaffProfile, User
from core.roles import role_group_name
from tests.conftest import PASSWORD

IP = "203.0.113.7"


def _fail(client, username, times, ip=IP):
    for _ in range(times):
        client.post(reverse("login"), {"username": username, "password": "wrong"}, REMOTE_ADDR=ip)


def _can_log_in(client, username, ip=IP) -> bool:
    response = client.post(
        reverse("login"), {"username": username, "password": PASSWORD}, REMOTE_ADDR=ip
    )
    return response.status_code == 302


@pytest.fixture
def other_director(db):
    org = Organization.objects.create(name="Elsewhere Health", mrn_prefix="EH")
    user = User.objects.create_user(username="director_elsewhere", password=PASSWORD)
    StaffProfile.objects.create(user=user, organization=org, role="director")
    user.groups.add(Group.objects.get_or_create(name=role_group_name("director"))[0])
    return user


@pytest.fixture
def locked_counselor(client, counselor, settings):
    _fail(client, "counselor", settings.LOGIN_LOCKOUT_ATTEMPTS)
    return counselor


def test_director_sees_the_staff_of_the_organisation_with_their_state(
    client, director, locked_counselor, nurse, other_director
):
    TOTPDevice.objects.create(user=nurse, name="phone", confirmed=True)
    nurse.last_login = timezone.now()
    nurse.save(update_fields=["last_login"])
    client.force_login(director)
    response = client.get(reverse("privacy:accounts"))
    assert response.status_code == 200
    page = response.content.decode()
    rows = {row["user"].username: row for row in response.context["rows"]}
    assert set(rows) == {"director", "counselor", "nurse"}  # not another organisation's
    assert rows["counselor"]["lock"] is not None
    assert rows["nurse"]["lock"] is None
    assert rows["nurse"]["mfa"] is True and rows["counselor"]["mfa"] is False
    assert "Locked until" in page
    assert 'data-testid="mfa-actions"' in page  # the place the MFA reset action goes


@pytest.mark.parametrize("user_fixture", ["counselor", "nurse", "frontdesk"])
def test_staff_who_are_not_directors_cannot_open_the_page(client, request, user_fixture):
    client.force_login(request.getfixturevalue(user_fixture))
    assert client.get(reverse("privacy:accounts")).status_code == 403


def test_director_unlocks_a_locked_out_user_early(client, director, locked_counselor):
    assert not _can_log_in(client, "counselor")
    staff_client = type(client)()
    staff_client.force_login(director)
    response = staff_client.post(reverse("privacy:account_unlock", args=[locked_counselor.pk]))
    assert response.status_code == 302
    row = AuditEvent.objects.get(action="auth.unlocked")
    assert row.actor == director
    assert row.object_id == str(locked_counselor.pk)
    assert _can_log_in(client, "counselor")


def test_after_an_unlock_the_count_starts_again(client, director, locked_counselor, settings):
    staff_client = type(client)()
    staff_client.force_login(director)
    staff_client.post(reverse("privacy:account_unlock", args=[locked_counselor.pk]))
    _fail(client, "counselor", settings.LOGIN_LOCKOUT_ATTEMPTS - 1)
    assert _can_log_in(client, "counselor")


def test_a_new_run_of_failures_after_an_unlock_locks_again(
    client, director, locked_counselor, settings
):
    staff_client = type(client)()
    staff_client.force_login(director)
    staff_client.post(reverse("privacy:account_unlock", args=[locked_counselor.pk]))
    _fail(client, "counselor", settings.LOGIN_LOCKOUT_ATTEMPTS)
    assert not _can_log_in(client, "counselor")


def test_a_counselor_cannot_unlock_a_colleague(client, locked_counselor, other_counselor):
    client.force_login(other_counselor)
    response = client.post(reverse("privacy:account_unlock", args=[locked_counselor.pk]))
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="auth.unlocked").exists()


def test_a_director_of_another_organisation_cannot_unlock(client, locked_counselor, other_director):
    client.force_login(other_director)
    response = client.post(reverse("privacy:account_unlock", args=[locked_counselor.pk]))
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="auth.unlocked").exists()
    assert AuditEvent.objects.filter(
        action="account.unlock", outcome=AuditEvent.Outcome.DENIED, actor=other_director
    ).exists()


def test_unlock_answers_only_post(client, director, locked_counselor):
    client.force_login(director)
    response = client.get(reverse("privacy:account_unlock", args=[locked_counselor.pk]))
    assert response.status_code == 405
    assert not AuditEvent.objects.filter(action="auth.unlocked").exists()


def test_the_page_lists_a_locked_out_patient_of_the_organisation(client, director, patient):
    # Patients are told to call the clinic when locked out; the director can let them in.
    _fail(client, patient.user.username, 5)
    staff_client = type(client)()
    staff_client.force_login(director)
    response = staff_client.get(reverse("privacy:accounts"))
    locked = [row["user"] for row in response.context["locked_patients"]]
    assert locked == [patient.user]
    assert f'Unlock<span class="visually-hidden"> {patient.user.username}' in (
        response.content.decode()
    )


def test_a_patient_who_is_not_locked_out_is_not_listed(client, director, patient):
    _fail(client, patient.user.username, 1)
    client.force_login(director)
    response = client.get(reverse("privacy:accounts"))
    assert response.context["locked_patients"] == []


def test_director_unlocks_a_patient_of_the_organisation(client, director, patient, settings):
    _fail(client, patient.user.username, settings.LOGIN_LOCKOUT_ATTEMPTS)
    assert not _can_log_in(client, patient.user.username)
    staff_client = type(client)()
    staff_client.force_login(director)
    response = staff_client.post(reverse("privacy:account_unlock", args=[patient.user.pk]))
    assert response.status_code == 302
    assert AuditEvent.objects.filter(
        action="auth.unlocked", object_id=str(patient.user.pk), actor=director
    ).exists()
    assert _can_log_in(client, patient.user.username)


def test_a_director_of_another_organisation_cannot_unlock_a_patient(
    client, other_director, patient
):
    client.force_login(other_director)
    response = client.post(reverse("privacy:account_unlock", args=[patient.user.pk]))
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="auth.unlocked").exists()


def test_a_counselor_cannot_unlock_a_patient(client, counselor, patient):
    client.force_login(counselor)
    response = client.post(reverse("privacy:account_unlock", args=[patient.user.pk]))
    assert response.status_code in (403, 404)
    assert not AuditEvent.objects.filter(action="auth.unlocked").exists()


def test_an_unlock_lets_the_user_through_the_network_wide_limit(
    client, director, counselor, settings
):
    settings.LOGIN_LOCKOUT_IP_ATTEMPTS = 6
    for n in range(6):
        _fail(client, f"someone{n}", 1)
    assert not _can_log_in(client, "counselor")
    staff_client = type(client)()
    staff_client.force_login(director)
    staff_client.post(reverse("privacy:account_unlock", args=[counselor.pk]))
    assert _can_log_in(client, "counselor")
