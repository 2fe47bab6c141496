from datetime import date, datetime

import pytest

from tests.conftest import NY

NOW = datetime(2026, 11, 22, 12, tzinfo=NY)
ADMITTED = date(2026, 9, 1)


@pytest.fixture
def now():
    return NOW


@pytest.fixture
def enrollment(make_patient, track, phases):
    """An active IOP enrollment on the evening track, in phase 1, counselor's caseload."""
    patient = make_patient(first="Robin", last="Owner", track=track, phase=phases[0])
    return patient.enrollments.get()


@pytest.fixture
def php_track(site, counselor):
    from scheduling.models import Track

    return Track.objects.create(site=site, name="PHP Day", kind="day", level="2.5")


@pytest.fixture
def op_track(site, counselor):
    from scheduling.models import Track

    return Track.objects.create(site=site, name="OP Weekly", kind="evening", level="1.0")


@pytest.fixture(autouse=True)
def only_patients_panels(monkeypatch):
    """Pages here show only this app's panels, so these tests pin this app's own work;
    the whole pages, every app's panels included, are pinned in
    tests/dashboard/test_page_queries.py."""
    from core import panels
    from core.registry import Registry

    own: Registry[panels.PanelFunction] = Registry(unique=False)
    for entry in panels.PANELS.entries():
        if entry.value.__module__ == "patients.panels":
            own.add(entry.key, entry.value, order=entry.order)
    monkeypatch.setattr(panels, "PANELS", own)
