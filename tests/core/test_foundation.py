import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.db import OperationalError
from django.urls import reverse

from core.models import AuditEvent, Role
from core.roles import role_group_name
from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[2]


# The production settings module, as manage.py picks it (pytest's own is tests.settings).
PRODUCTION_SETTINGS = {"DJANGO_SETTINGS_MODULE": "clinic.settings"}


def _start_with(env_overrides: dict) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY")}
    env.update(PRODUCTION_SETTINGS)
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        ({"DEBUG": "1", "DATABASE_URL": "mysql-ish:nonsense"}, "DATABASE_URL"),
        ({"DEBUG": "0"}, "SECRET_KEY"),
        ({"DEBUG": "maybe"}, "DEBUG"),
        ({"DEBUG": "1", "CELERY_BROKER_URL": "amqp://x"}, "CELERY_BROKER_URL"),
        ({"DEBUG": "1", "EMAIL_PORT": "twenty-five"}, "EMAIL_PORT"),
        ({"DEBUG": "1", "NUM_PROXIES": "0"}, "NUM_PROXIES"),
    ],
)
def test_bad_configuration_stops_startup_with_one_line_naming_the_variable(overrides, variable):
    result = _start_with(overrides)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"Configuration error: {variable}")
    assert "Traceback" not in result.stderr


def test_anonymous_user_is_sent_to_login(client, db):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_wrong_password_says_so_without_revealing_which_part(client, counselor):
    response = client.post(reverse("login"), {"username": "counselor", "password": "wrong"})
    assert response.status_code == 200
    assert "do not match" in response.content.decode()
    unknown = client.post(reverse("login"), {"username": "nobody", "password": "wrong"})
    # The same message whether the account exists or not.
    assert "do not match" in unknown.content.decode()
    failures = AuditEvent.objects.filter(action="auth.login_failed")
    assert [e.actor_label for e in failures.order_by("id")] == ["counselor", "nobody"]


def test_successful_login_is_audited_and_lands_on_home(client, counselor):
    response = client.post(reverse("login"), {"username": "counselor", "password": PASSWORD})
    assert response.status_code == 302 and response.url == reverse("home")
    assert AuditEvent.objects.filter(action="auth.login", actor=counselor).count() == 1


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_each_staff_role_sees_its_home(client, make_staff, role):
    user = make_staff(f"user_{role}", role)
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert f"{Role(role).label} home" in response.content.decode()


def test_patient_sees_portal_home(client, patient):
    client.force_login(patient.user)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert f"Hello, {patient.display_name}" in response.content.decode()


def test_account_without_role_sees_no_clinic_data(client, db):
    from core.models import User

    user = User.objects.create_user(username="stray", password=PASSWORD)
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 403


def test_unknown_url_gets_styled_404(client, counselor):
    client.force_login(counselor)
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_server_error_gets_styled_500_without_traceback(client, counselor, monkeypatch):
    import core.views

    def boom(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(core.views, "collect", boom)
    client.raise_request_exception = False
    client.force_login(counselor)
    response = client.get(reverse("home"))
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong" in body
    assert "secret internals" not in body and "Traceback" not in body


def test_healthz_reports_database_and_broker(client, db, test_now):
    from core.models import BeatHeartbeat

    BeatHeartbeat.objects.create(pk=1, beat_at=test_now)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert json.loads(response.content) == {
        "status": "ok",
        "database": "ok",
        "broker": "ok",
        "beat": "ok",
        "audit": "ok",
    }


def test_healthz_is_503_when_database_is_down(client, db, monkeypatch):
    import core.views

    class Broken:
        def cursor(self):
            raise OperationalError("connection refused")

    monkeypatch.setattr(core.views, "connection", Broken())
    response = client.get("/healthz")
    assert response.status_code == 503
    assert json.loads(response.content)["database"] == "down"


def test_healthz_is_503_when_broker_is_down(client, db, monkeypatch):
    from kombu import Connection

    from clinic.celery import app

    # Nothing listens on port 1: the broker is unreachable.
    monkeypatch.setattr(app, "connection_for_write", lambda: Connection("redis://127.0.0.1:1/0"))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert json.loads(response.content)["broker"] == "down"


def test_every_role_has_a_group_and_none_may_delete(db):
    from core.roles import ensure_role_groups

    ensure_role_groups()
    for role in Role:
        group = Group.objects.get(name=role_group_name(role))
        codenames = set(group.permissions.values_list("codename", flat=True))
        assert codenames, role
        assert not any(c.startswith("delete_") for c in codenames), role
    director = Group.objects.get(name=role_group_name(Role.DIRECTOR))
    assert director.permissions.filter(codename="change_enrollment").exists()
    collector = Group.objects.get(name=role_group_name(Role.COLLECTOR))
    assert not collector.permissions.filter(codename="change_patient").exists()


def test_superuser_opens_admin_but_counselor_cannot(client, admin_user, counselor):
    client.force_login(admin_user)
    assert client.get("/admin/").status_code == 200
    client.force_login(counselor)
    assert client.get("/admin/").status_code == 302


def test_pages_are_not_cached_and_carry_a_strict_csp(client, counselor):
    client.force_login(counselor)
    response = client.get(reverse("home"))
    assert "no-store" in response["Cache-Control"]
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"


def test_offline_commands_run_without_any_secret():
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY")}
    env.update(PRODUCTION_SETTINGS)
    env["DATABASE_URL"] = "sqlite://:memory:"
    result = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "No changes detected" in result.stdout
