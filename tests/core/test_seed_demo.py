from django.contrib.auth import authenticate
from django.core.management import call_command

from core.models import Site, User
from patients.models import Enrollment, Patient

DEMO_USERS = ["director", "counselor", "counselor2", "nurse", "frontdesk", "collector"] + [
    f"patient{i}" for i in range(1, 41)
]


def test_seed_demo_creates_the_demo_clinic(db, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "demo-password-for-tests")
    call_command("seed_demo")
    sites = list(Site.objects.all())
    assert len(sites) == 2
    assert len({s.time_zone for s in sites}) == 2
    assert Patient.objects.count() == 40
    for username in DEMO_USERS:
        assert authenticate(username=username, password="demo-password-for-tests"), username


def test_seed_demo_is_idempotent(db, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "demo-password-for-tests")
    call_command("seed_demo")
    counts = (User.objects.count(), Patient.objects.count(), Enrollment.objects.count())
    call_command("seed_demo")
    assert (User.objects.count(), Patient.objects.count(), Enrollment.objects.count()) == counts


def test_seed_demo_prints_the_default_password_it_used(db, monkeypatch, capsys, settings):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    call_command("seed_demo")
    assert settings.DEMO_PASSWORD_DEFAULT in capsys.readouterr().out
