"""Shared fixtures: a clinic with two sites, one user per role, a patient factory,
a real browser (Debian's Chromium through Playwright) and a real Celery worker."""

from __future__ import annotations

import contextlib
import os
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

# Playwright runs an event loop in the test thread; the ORM calls beside it are sync.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

SCREENS = Path(__file__).resolve().parent.parent / "var" / "screens"
PASSWORD = "correct-horse-battery-staple"
NY = ZoneInfo("America/New_York")


# --- clinic -----------------------------------------------------------------


@pytest.fixture
def org(db):
    from core.models import Organization

    return Organization.objects.create(name="Test Recovery Services", mrn_prefix="TR")


@pytest.fixture
def site(org):
    from core.models import Site

    return Site.objects.create(
        organization=org, name="Northside", code="north", time_zone="America/New_York"
    )


@pytest.fixture
def other_site(org):
    from core.models import Site

    return Site.objects.create(
        organization=org, name="Westside", code="west", time_zone="America/Los_Angeles"
    )


@pytest.fixture
def phases(site):
    from patients.models import ProgramPhase

    return [ProgramPhase.objects.create(site=site, number=n, name=f"Phase {n}") for n in (1, 2, 3)]


@pytest.fixture
def make_staff(org, site):
    from django.contrib.auth.models import Group

    from core.models import StaffProfile, User
    from core.roles import ensure_role_groups, role_group_name

    ensure_role_groups()

    def make(username: str, role: str, sites=None, **extra):
        user = User.objects.create_user(
            username=username, password=PASSWORD, first_name=username.title(), **extra
        )
        profile = StaffProfile.objects.create(user=user, organization=org, role=role)
        profile.sites.set([site] if sites is None else sites)
        user.groups.add(Group.objects.get(name=role_group_name(role)))
        return user

    return make


@pytest.fixture
def director(make_staff):
    return make_staff("director", "director", sites=[], is_staff=True)


@pytest.fixture
def counselor(make_staff):
    return make_staff("counselor", "counselor")


@pytest.fixture
def other_counselor(make_staff, site):
    """A colleague at the same site with a caseload of their own."""
    return make_staff("counselor_b", "counselor")


@pytest.fixture
def outside_counselor(make_staff, other_site):
    """Staff of another site: must see nothing of this site's patients."""
    return make_staff("counselor_west", "counselor", sites=[other_site])


@pytest.fixture
def nurse(make_staff):
    return make_staff("nurse", "medical")


@pytest.fixture
def frontdesk(make_staff):
    return make_staff("frontdesk", "frontdesk")


@pytest.fixture
def collector(make_staff):
    return make_staff("collector", "collector")


@pytest.fixture
def track(site, counselor):
    from scheduling.models import Track

    return Track.objects.create(
        site=site,
        name="IOP Evening",
        kind="evening",
        level="2.1",
        default_facilitator=counselor,
        room="Room B",
        capacity=12,
    )


@pytest.fixture
def day_track(site, counselor):
    from scheduling.models import Track

    return Track.objects.create(
        site=site, name="IOP Day", kind="day", level="2.1", default_facilitator=counselor
    )


@pytest.fixture
def make_patient(site, counselor, frontdesk):
    """Admit a patient through the real service (history, roster and audit included)."""
    from patients import services

    counter = {"n": 0}

    def make(
        *,
        first: str | None = None,
        last: str = "Doe",
        born: date = date(1990, 5, 17),
        level: str = "2.1",
        track=None,
        phase=None,
        admitted: date = date(2026, 9, 1),
        counselor_user=counselor,
        at_site=site,
        portal: bool = False,
        **extra,
    ):
        counter["n"] += 1
        n = counter["n"]
        enrollment = services.patient_admit(
            actor=frontdesk,
            site=at_site,
            legal_first_name=first or f"Pat{n}",
            legal_last_name=last,
            date_of_birth=born,
            primary_substance="opioids",
            level=level,
            track=track,
            phase=phase,
            counselor=counselor_user,
            admission_date=admitted,
            now=datetime(2026, 11, 22, 12, tzinfo=NY),
            **extra,
        )
        if portal:
            services.patient_link_portal_account(
                actor=None, patient=enrollment.patient, username=f"pt{n}", password=PASSWORD
            )
        return enrollment.patient

    return make


@pytest.fixture
def patient(make_patient):
    return make_patient(first="Robin", last="Owner", portal=True)


@pytest.fixture
def other_patient(make_patient):
    return make_patient(first="Kim", last="Other", portal=True)


# --- browser ----------------------------------------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed and "page" in item.funcargs:
        SCREENS.mkdir(parents=True, exist_ok=True)
        # A failed screenshot must not hide the real failure.
        with contextlib.suppress(Exception):
            item.funcargs["page"].screenshot(path=str(SCREENS / f"{item.name}.png"), full_page=True)


@pytest.fixture
def login(live_server):
    """Log a browser page in as ``username`` and land on the home page."""

    def do(page, username: str, password: str = PASSWORD):
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{live_server.url}/")
        return page

    return do


def save_screen(page, name: str) -> None:
    """Keep a screenshot as a test artefact (under var/screens/)."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)


# --- Celery -----------------------------------------------------------------


@pytest.fixture
def celery_worker(transactional_db):
    """A real worker on the test broker (its own Redis db), in a thread of this process.

    Use with ``@pytest.mark.django_db(transaction=True)`` so the worker sees committed rows.
    """
    from celery.contrib.testing.worker import start_worker

    from clinic.celery import app

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as worker:
        yield worker


def wait_for(predicate, timeout: float = 15.0, interval: float = 0.1):
    """Poll until ``predicate()`` is truthy (for work done by another process or thread)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


def days(n: int) -> timedelta:
    return timedelta(days=n)


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    """Uploads made by a test (including the demo's) go to a folder of its own."""
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    return settings.PRIVATE_MEDIA_ROOT
