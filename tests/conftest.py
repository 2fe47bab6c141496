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
LA = ZoneInfo("America/Los_Angeles")


# --- the suite's clock ------------------------------------------------------
#
# No test reads the wall clock: every test runs with Python's clock frozen at the
# suite's "now" (it ticks on from there, so timeouts still work), in every thread (the
# live server and in-process Celery workers included). The instant comes from
# STEPWISE_TEST_NOW (ISO 8601 with an offset); scenarios derive their dates from it.
# Tests marked ``date_sensitive`` are also swept (STEPWISE_DATE_SWEEP=1, on in CI) over
# the instants where calendars break: DST changes, holidays, year and week ends.

DEFAULT_TEST_NOW = "2026-11-18T10:30:00-05:00"  # a Wednesday morning in New York
# The instant the older scenario modules were written and checked for: they build their
# data from literal dates (admissions on Sep 1 2026, sessions in the week of Nov 16), so
# they carry ``pytestmark = pytest.mark.frozen(SCENARIO_NOW)`` and do not move with
# STEPWISE_TEST_NOW. Their date_sensitive tests are still swept.
SCENARIO_NOW = DEFAULT_TEST_NOW


def parse_test_now(value: str) -> datetime:
    instant = datetime.fromisoformat(value)
    if instant.tzinfo is None:
        raise pytest.UsageError(f"STEPWISE_TEST_NOW needs a UTC offset: {value!r}")
    return instant


TEST_NOW = parse_test_now(os.environ.get("STEPWISE_TEST_NOW") or DEFAULT_TEST_NOW)


def _local(zone: ZoneInfo, *parts: int) -> datetime:
    return datetime(*parts, tzinfo=zone)  # fold=0: an ambiguous time is its first occurrence


# (id, instant) in both demo sites' zones: US spring-forward and fall-back days at 01:30 and
# 03:30 local, Thanksgiving, New Year's Eve 23:30, 29 Feb 2028, Sunday night and Monday
# 00:15 (week boundaries).
DATE_SWEEP = [
    (f"{name}-{label}", _local(zone, *parts))
    for name, zone in (("ny", NY), ("la", LA))
    for label, parts in (
        ("spring-0130", (2026, 3, 8, 1, 30)),
        ("spring-0330", (2026, 3, 8, 3, 30)),
        ("fall-0130", (2026, 11, 1, 1, 30)),
        ("fall-0330", (2026, 11, 1, 3, 30)),
        ("thanksgiving", (2026, 11, 26, 10, 0)),
        ("nye-2330", (2026, 12, 31, 23, 30)),
        ("leap-day", (2028, 2, 29, 12, 0)),
        ("sunday-2330", (2026, 11, 29, 23, 30)),
        ("monday-0015", (2026, 11, 30, 0, 15)),
    )
]


def pytest_generate_tests(metafunc):
    if os.environ.get("STEPWISE_DATE_SWEEP") != "1":
        return
    if metafunc.definition.get_closest_marker("date_sensitive") is None:
        return
    ids = ["now"] + [label for label, _ in DATE_SWEEP]
    values = [TEST_NOW] + [instant for _, instant in DATE_SWEEP]
    metafunc.parametrize("test_now", values, ids=ids, indirect=True)


@pytest.fixture
def test_now(request) -> datetime:
    """The instant this test runs at (a scenario's own ``frozen`` mark, the sweep's
    instant, or the suite's STEPWISE_TEST_NOW)."""
    if hasattr(request, "param"):  # the date sweep
        return request.param
    marker = request.node.get_closest_marker("frozen")
    if marker is not None:
        return parse_test_now(marker.args[0])
    return TEST_NOW


@pytest.fixture(autouse=True)
def _frozen_clock(test_now):
    import time_machine

    with time_machine.travel(test_now, tick=True):
        yield


@pytest.fixture
def today(test_now) -> date:
    """The frozen day in New York, where the ``site`` fixture is."""
    return test_now.astimezone(NY).date()


# --- clinic -----------------------------------------------------------------


@pytest.fixture
def org(db):
    from core.models import Organization

    return Organization.objects.create(name="Test Recovery Services", mrn_prefix="TR")


@pytest.fixture
def site(org):
    from core.models import Site

    return Site.objects.create(
        organization=org,
        name="Northside",
        code="north",
        time_zone="America/New_York",
        subdivision="NY",
    )


@pytest.fixture
def other_site(org):
    from core.models import Site

    return Site.objects.create(
        organization=org,
        name="Westside",
        code="west",
        time_zone="America/Los_Angeles",
        subdivision="CA",
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
    from patients.models import Track

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
    from patients.models import Track

    return Track.objects.create(
        site=site, name="IOP Day", kind="day", level="2.1", default_facilitator=counselor
    )


# The older scenarios were written for an admission on Sep 1 2026 recorded on Nov 22 2026;
# on an earlier frozen day (the date sweep reaches back to March 2026) the patient is
# admitted 60 days before it instead, so that "today" is always inside the episode.
SCENARIO_ADMISSION = date(2026, 9, 1)
SCENARIO_RECORDED = datetime(2026, 11, 22, 12, tzinfo=NY)


@pytest.fixture
def make_patient(site, counselor, frontdesk, test_now):
    """Admit a patient through the real service (history, roster and audit included)."""
    from patients.services.admission import patient_admit
    from patients.services.patient import patient_link_portal_account

    counter = {"n": 0}
    default_admitted = min(SCENARIO_ADMISSION, test_now.astimezone(NY).date() - timedelta(days=60))
    recorded = min(SCENARIO_RECORDED, test_now)

    def make(
        *,
        first: str | None = None,
        last: str = "Doe",
        born: date = date(1990, 5, 17),
        level: str = "2.1",
        track=None,
        phase=None,
        admitted: date | None = None,
        counselor_user=counselor,
        at_site=site,
        portal: bool = False,
        **extra,
    ):
        counter["n"] += 1
        n = counter["n"]
        enrollment = patient_admit(
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
            admission_date=admitted or default_admitted,
            now=recorded,
            **extra,
        )
        if portal:
            patient_link_portal_account(
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
