"""Shared fixtures: a clinic with two sites, one user per role, a patient factory,
a real browser (Debian's Chromium through Playwright) and a real Celery worker."""

from __future__ import annotations

import contextlib
import os
import re
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


# (id, instant): in New York, the US spring-forward and fall-back days at 01:30 and 03:30
# local, Thanksgiving, New Year's Eve 23:30, 29 Feb 2028, Sunday night and Monday 00:15
# (week boundaries); in Los Angeles, the instants where its being three hours behind
# puts the site's day on the other side of a boundary from UTC's and New York's (the
# clock changes at 01:30, New Year's Eve and Monday 00:15). The other five Los Angeles
# instants repeat New York's calendar cases at another offset; they were dropped to keep
# make test inside its time budget (#18 note).
_SWEEP_NY = (
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
_SWEEP_LA = {"spring-0130", "fall-0130", "nye-2330", "monday-0015"}
DATE_SWEEP = [(f"ny-{label}", _local(NY, *parts)) for label, parts in _SWEEP_NY] + [
    (f"la-{label}", _local(LA, *parts)) for label, parts in _SWEEP_NY if label in _SWEEP_LA
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


def _role_grants() -> frozenset[tuple[str, str | None, str | None]]:
    """(group, app label, codename) of every role's permission as ``ensure_role_groups``
    sets them, and (group, None, None) for a role with none (pure Python, the same for
    the whole run)."""
    from core.models import Role
    from core.roles import permissions_for, role_group_name

    grants: set[tuple[str, str | None, str | None]] = set()
    for role in Role:
        held = permissions_for(role)
        grants.update((role_group_name(role), label, code) for label, code in held)
        if not held:
            grants.add((role_group_name(role), None, None))
    return frozenset(grants)


_ROLE_GRANTS: list[frozenset[tuple[str, str | None, str | None]]] = []


def _ensure_role_groups_cheaply() -> None:
    # core's post_migrate receiver makes the groups before the later apps' permissions
    # exist; ``django_db_setup`` below completes them in the committed state, so the
    # ~20 queries of ensure_role_groups run only when one query shows they are not what it
    # would set (a test that changed them, say).
    from django.contrib.auth.models import Group

    from core.roles import ensure_role_groups

    if not _ROLE_GRANTS:
        _ROLE_GRANTS.append(_role_grants())
    wanted = _ROLE_GRANTS[0]
    groups = Group.objects.filter(name__in={name for name, _, _ in wanted})
    held = frozenset(
        groups.values_list("name", "permissions__content_type__app_label", "permissions__codename")
    )
    if held != wanted:
        ensure_role_groups()


# --- the test database -------------------------------------------------------------
#
# Migrating an empty database takes about half a minute of Python (Django renders the
# model state again for each operation), in every pytest run. On PostgreSQL the migrated
# database is kept as a template, named after the test database and labelled with a hash
# of what migrating reads (``_migrations_digest``), and each run's test database is
# created as a copy of it; migrate then runs on the copy as usual (it finds nothing to
# apply and sends post_migrate). Any change to the apps' code, data or migrations makes a
# new template. STEPWISE_TEST_DB_TEMPLATE=0 turns it off.


_DIGEST_SKIP = {"templates", "static", "locale", "__pycache__"}


def _migrations_digest() -> str:
    """Django's version, every installed app's migration files and, since migrations
    import the project's code and read its data (measures' instruments), every source
    and data file of the project's own apps and settings: a template is reused only for
    the same code."""
    import hashlib
    from importlib import import_module

    import django
    from django.apps import apps

    root = Path(__file__).resolve().parent.parent
    folders = [(root / "clinic", "clinic"), (root / "tests" / "settings.py", "tests")]
    for config in apps.get_app_configs():
        app_path = Path(config.path).resolve()
        if app_path.is_relative_to(root):
            folders.append((app_path, config.label))
            continue
        try:
            package = import_module(f"{config.name}.migrations")
        except ImportError:
            continue
        folders += [(Path(f), config.label) for f in getattr(package, "__path__", [])]
    digest = hashlib.sha256(django.get_version().encode())
    for folder, label in folders:
        files = [folder] if folder.is_file() else sorted(folder.rglob("*"))
        for path in files:
            name = path.name if path == folder else str(path.relative_to(folder))
            if not path.is_file() or _DIGEST_SKIP & set(Path(name).parts):
                continue
            if path.suffix not in {".py", ".json", ".csv", ".sql", ".yaml", ".yml", ".txt"}:
                continue
            digest.update(f"{label}/{name}".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:32]


def _migrated_template(db: dict) -> str | None:
    """The name of an up-to-date migrated template for the test database ``db`` (made
    if missing or stale), or None if it could not be made (the run then migrates)."""
    import subprocess
    import sys
    from urllib.parse import urlsplit, urlunsplit

    import psycopg
    from psycopg import sql

    test_name = (db.get("TEST") or {}).get("NAME") or f"test_{db['NAME']}"
    # One template for all pytest-xdist workers (their test databases are named
    # test_x_gw0, test_x_gw1...): the first to get here makes it, the others wait on the
    # lock below and then find it made.
    test_name = re.sub(r"_gw\d+$", "", test_name)
    template = f"{test_name[:59]}_tpl"
    label = f"stepwise migrations {_migrations_digest()}"
    url = os.environ.get("DATABASE_URL", "")
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres"):
        return None
    admin = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        # Session-level: released when this connection closes, made or not.
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))", [template])
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [template],
        ).fetchone()
        if row is not None and row[0] == label:
            return template
        name = sql.Identifier(template)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(name))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))
        env = {
            **os.environ,
            "DATABASE_URL": urlunsplit(parts._replace(path=f"/{template}")),
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "CONN_MAX_AGE": "0",
        }
        manage = Path(__file__).resolve().parent.parent / "manage.py"
        done = subprocess.run(
            [sys.executable, str(manage), "migrate", "--run-syncdb", "-v", "0"],
            env=env,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(name))
            sys.stderr.write(f"test database template not made:\n{done.stderr}\n")
            return None
        conn.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(name, sql.Literal(label)))
    return template


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, request):
    from django.conf import settings

    db = settings.DATABASES["default"]
    if (
        db["ENGINE"] != "django.db.backends.postgresql"
        or os.environ.get("STEPWISE_TEST_DB_TEMPLATE", "1") != "1"
        or request.config.getvalue("nomigrations")
    ):
        return
    template = _migrated_template(db)
    if template is not None:
        db.setdefault("TEST", {})["TEMPLATE"] = template


def _complete_role_groups(sender, **kwargs) -> None:
    from core.roles import ensure_role_groups

    ensure_role_groups()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database as pytest-django makes it, with the role groups complete in its
    committed state, and again after each transactional test's flush (which emits
    post_migrate as migrate does), so that ``make_staff`` finds them as they should be."""
    from django.apps import apps
    from django.db.models.signals import post_migrate

    last = [config for config in apps.get_app_configs() if config.models_module][-1]
    post_migrate.connect(_complete_role_groups, sender=last, dispatch_uid="tests.role_groups")
    with django_db_blocker.unblock():
        _complete_role_groups(None)


@pytest.fixture
def make_staff(org, site):
    from django.contrib.auth.models import Group

    from core.models import StaffProfile, User
    from core.roles import role_group_name

    _ensure_role_groups_cheaply()

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


@pytest.fixture(autouse=True)
def _alerts_in_process(request, monkeypatch):
    """A live server's writes reconcile the alert queue in-process when they commit (no
    worker runs beside a browser test), so its home shows what the events raised."""
    if "live_server" not in request.fixturenames:
        yield
        return
    from alerts import receivers
    from alerts.services import alerts_reconcile
    from alerts.tasks import patient_ids_for

    monkeypatch.setattr(
        receivers, "_send", lambda ids: alerts_reconcile(patient_ids=patient_ids_for(ids))
    )
    yield


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


# --- the demo clinic, seeded once for the tests that only read it ----------------------
#
# ``seed_demo`` takes seconds; the tests of what it makes only read it. They take the
# ``demo_clinic`` fixture (and neither ``db`` nor the django_db mark): the first of a run
# of such tests seeds inside a transaction of its own, each test runs in a savepoint of it
# rolled back after the test, and the transaction is rolled back as soon as the next test
# does not use the fixture (or runs at another frozen instant), so no other test ever sees
# the demo. ``pytest_collection_modifyitems`` runs them one after another, early (after
# the hostile walk).

DEMO_FIXTURE = "demo_clinic"


class DemoClinic:
    """The demo clinic as ``manage.py seed_demo`` left it, run with DEMO_PASSWORD set to
    ``password``."""

    password = "demo-password-for-tests"

    def __init__(self, now: datetime, output: str, media: Path):
        self.now = now
        self.output = output  # what the command printed
        self.media = media
        self._reseeded: tuple[dict[str, int], dict[str, int], str] | None = None

    def reseed(self) -> tuple[dict[str, int], dict[str, int], str]:
        """A second ``seed_demo``, with DEMO_PASSWORD unset, rolled back: the rows of every
        model (by label, "records.ProgressNote") before and after it, and what it printed.
        Run once per seed, by the first test that asks."""
        if self._reseeded is None:
            import io

            from django.core.management import call_command
            from django.db import transaction

            before = _row_counts()
            out = io.StringIO()
            with transaction.atomic():
                with pytest.MonkeyPatch.context() as mp:
                    mp.delenv("DEMO_PASSWORD", raising=False)
                    call_command("seed_demo", stdout=out)
                after = _row_counts()
                transaction.set_rollback(True)
            self._reseeded = (before, after, out.getvalue())
        return self._reseeded


def _row_counts() -> dict[str, int]:
    from django.apps import apps

    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if not model._meta.proxy and model._meta.managed
    }


class _DemoRun:
    """The open transaction holding the seeded demo, while consecutive tests use it."""

    def __init__(self) -> None:
        self.atomic = None
        self.blocker = None
        self.clinic: DemoClinic | None = None

    def open(self, blocker, now: datetime, media: Path) -> DemoClinic:
        if self.clinic is not None and self.clinic.now == now:
            return self.clinic
        self.close()
        import io

        from django.core.management import call_command
        from django.db import transaction
        from django.test import override_settings

        atomic = transaction.atomic()
        atomic._from_testcase = True  # durable blocks inside are allowed, as in a TestCase
        with blocker.unblock():
            atomic.__enter__()
            self.atomic, self.blocker = atomic, blocker
            out = io.StringIO()
            with pytest.MonkeyPatch.context() as mp, override_settings(PRIVATE_MEDIA_ROOT=media):
                mp.setenv("DEMO_PASSWORD", DemoClinic.password)
                call_command("seed_demo", stdout=out)
        self.clinic = DemoClinic(now, out.getvalue(), media)
        return self.clinic

    def close(self) -> None:
        if self.atomic is None:
            return
        from django.db import transaction

        atomic, self.atomic, self.clinic = self.atomic, None, None
        with self.blocker.unblock():
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


_DEMO_RUN = _DemoRun()


@pytest.fixture(scope="session")
def _demo_run(django_db_setup):
    # Rolled back before the test database is dropped, when the last test of the session
    # used the demo (otherwise as soon as the next test does not: the hook below).
    yield _DEMO_RUN
    _DEMO_RUN.close()


@pytest.fixture
def demo_clinic(request, _demo_run, django_db_blocker, test_now, settings, tmp_path_factory):
    """The demo clinic, seeded once for consecutive tests at the same instant; this test's
    writes are rolled back after it."""
    from django.db import connection, transaction

    if request.node.get_closest_marker("django_db") or {"db", "transactional_db"} & set(
        request.fixturenames
    ):
        raise pytest.UsageError(
            f"{request.node.nodeid}: {DEMO_FIXTURE} opens the database itself; "
            "drop db/transactional_db and the django_db mark"
        )
    current = _demo_run.clinic
    if current is not None and current.now == test_now:
        media = current.media
    else:
        media = tmp_path_factory.mktemp("demo-private")
    clinic = _demo_run.open(django_db_blocker, test_now, media)
    # The demo's uploads are where this test reads them.
    settings.PRIVATE_MEDIA_ROOT = clinic.media
    with django_db_blocker.unblock():
        savepoint = transaction.atomic()
        savepoint.__enter__()
        try:
            yield clinic
            if connection.features.can_defer_constraint_checks and connection.is_usable():
                connection.check_constraints()
        finally:
            transaction.set_rollback(True)
            savepoint.__exit__(None, None, None)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    # The demo's tests together: one seed serves them all. Under pytest-xdist
    # (scripts/test.sh runs it with --dist loadgroup) they are also one group, so a single
    # worker seeds the demo once rather than each worker seeding it.
    demo = [item for item in items if DEMO_FIXTURE in getattr(item, "fixturenames", ())]
    for item in demo:
        item.add_marker(pytest.mark.xdist_group("demo-clinic"))
    # The two long groups first (tests/hostile: one walk of the whole demo shared by its
    # tests; then the demo's tests), so each worker starts on one and the small tests
    # fill in around them: a long group last would leave the other worker idle.
    walk = [item for item in items if item.nodeid.startswith(WALK_PREFIX)]
    # The axe walk (a minute or two, one test) next, for the same reason.
    axe = [item for item in items if item.nodeid.startswith(AXE_WALK)]
    rest = [item for item in items if item not in demo and item not in walk and item not in axe]
    items[:] = walk + demo + axe + rest


WALK_PREFIX = "tests/hostile/"
AXE_WALK = "tests/browser/test_axe_walk.py"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    yield
    if nextitem is None or DEMO_FIXTURE not in getattr(nextitem, "fixturenames", ()):
        _DEMO_RUN.close()
