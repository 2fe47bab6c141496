"""The data migration that mends stored collection times outside 1900-2199 (#16)."""

import importlib
from datetime import UTC, datetime

import pytest
from django.apps import apps
from django.urls import reverse

from core import audit
from core.models import AuditEvent
from drugtests.models import Specimen, TestingPolicy
from drugtests.services.collection import specimen_collect
from drugtests.services.random_draw import draw_run

pytestmark = pytest.mark.django_db
migration = importlib.import_module("drugtests.migrations.0003_mend_out_of_range_dates")


@pytest.fixture
def specimen(patient, site, collector, pinned_clock):
    TestingPolicy.objects.create(
        site=site, name="Every day", frequency=7, period="week", collection_days="0123456"
    )
    draw_run(site=site, now=pinned_clock)
    selection = patient.test_selections.get()
    made = specimen_collect(
        actor=collector,
        selection=selection,
        chain_of_custody_id="COC-1",
        method="poc",
        observed=True,
        temperature_in_range=True,
        validity="valid",
    )
    Specimen.objects.filter(pk=made.pk).update(collected_at=datetime(1, 1, 1, tzinfo=UTC))
    return made


def test_a_year_one_collection_is_set_to_when_it_was_recorded(specimen, capsys):
    migration.mend(apps, None)
    mended = Specimen.objects.select_related("selection").get(pk=specimen.pk)
    assert mended.collected_at == mended.selection.status_changed_at
    assert f"drugtests.Specimen #{specimen.pk} collected_at 0001-01-01" in capsys.readouterr().out


def test_the_mend_is_audited_in_the_chain(specimen):
    migration.mend(apps, None)
    event = AuditEvent.objects.get(action="data.date_mended")
    assert (event.object_type, event.object_id) == ("drugtests.Specimen", str(specimen.pk))
    assert event.patient_id == specimen.patient_id and event.detail["old"].startswith("0001")
    assert list(audit.verify_chain()) == []


def test_the_test_page_opens_after_the_mend(client, counselor, specimen):
    migration.mend(apps, None)
    client.force_login(counselor)
    assert (
        client.get(reverse("drugtests:selection", args=[specimen.selection_id])).status_code == 200
    )


def test_an_in_range_collection_is_left_alone(specimen, capsys):
    Specimen.objects.filter(pk=specimen.pk).update(collected_at=datetime(2026, 1, 5, tzinfo=UTC))
    migration.mend(apps, None)
    assert Specimen.objects.get(pk=specimen.pk).collected_at == datetime(2026, 1, 5, tzinfo=UTC)
    assert not AuditEvent.objects.filter(action="data.date_mended").exists()
    assert capsys.readouterr().out == ""
