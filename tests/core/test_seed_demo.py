"""``manage.py seed_demo``, run once for these tests (the ``demo_clinic`` fixture, with
DEMO_PASSWORD set) and a second time without DEMO_PASSWORD (``demo_clinic.reseed``)."""

from django.contrib.auth import authenticate

from core.models import Site
from patients.models import Patient

DEMO_USERS = ["director", "counselor", "counselor2", "nurse", "frontdesk", "collector"] + [
    f"patient{i}" for i in range(1, 41)
]


def test_seed_demo_creates_the_demo_clinic(demo_clinic):
    sites = list(Site.objects.all())
    assert len(sites) == 2
    assert len({s.time_zone for s in sites}) == 2
    assert Patient.objects.count() == 40
    for username in DEMO_USERS:
        assert authenticate(username=username, password=demo_clinic.password), username


def test_seed_demo_is_idempotent(demo_clinic):
    before, after, _ = demo_clinic.reseed()
    for label in ("core.User", "patients.Patient", "patients.Enrollment"):
        assert after[label] == before[label], label


def test_seed_demo_prints_the_default_password_it_used(demo_clinic, settings):
    _, _, printed = demo_clinic.reseed()
    assert settings.DEMO_PASSWORD_DEFAULT in printed


def test_seed_demo_does_not_print_the_password_given_in_the_environment(demo_clinic, settings):
    assert "the value of DEMO_PASSWORD" in demo_clinic.output
    assert demo_clinic.password not in demo_clinic.output
    assert settings.DEMO_PASSWORD_DEFAULT not in demo_clinic.output
