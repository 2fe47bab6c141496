"""Drug-testing text has a length limit: a resolution note typed on the alert list, and a
collection's notes."""

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from core import limits
from drugtests.models import Specimen, TestAlert

from .test_collection import _collect

pytestmark = pytest.mark.django_db


@pytest.fixture
def alert(selected, collector):
    _collect(collector, selected, temperature_in_range=False, validity="adulterated")
    return TestAlert.objects.get()


def test_an_over_long_resolution_note_is_refused_with_a_message(client, nurse, alert):
    client.force_login(nurse)
    response = client.post(
        reverse("drugtests:resolve_alert", args=[alert.pk]),
        {"note": "n" * (limits.NOTE + 1)},
        follow=True,
    )
    assert response.status_code == 200
    assert "at most 10000 characters" in response.content.decode()
    alert.refresh_from_db()
    assert alert.resolved_at is None and alert.resolution_note == ""


def test_the_alert_list_limits_the_resolution_note(client, nurse, alert):
    client.force_login(nurse)
    page = client.get(reverse("drugtests:today"), {"site": alert.site_id}).content.decode()
    assert f'name="note" class="form-control form-control-sm" maxlength="{limits.NOTE}"' in page


def test_the_database_refuses_over_long_collection_notes(selected, collector):
    specimen = _collect(collector, selected)
    with pytest.raises(IntegrityError), transaction.atomic():
        Specimen.objects.filter(pk=specimen.pk).update(notes="x" * (limits.NOTE + 1))
