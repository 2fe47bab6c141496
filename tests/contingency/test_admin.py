"""The admin: programs editable and audited; episodes and the ledger read-only, each look
audited against the patient."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.urls import reverse

from contingency.models import LedgerEntry
from contingency.services.ledger import selections_evaluate
from core.models import AuditEvent, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_superuser(client, org):
    root = User.objects.create_superuser(username="root", email="root@example.org", password="x")
    client.force_login(root)
    return client


def test_a_ledger_entry_cannot_be_changed_in_the_admin_and_a_look_is_audited(
    as_superuser, episode, tester, episode_start
):
    selections_evaluate(selection_ids=[tester.cup(episode_start).pk])
    entry = LedgerEntry.objects.get()
    url = reverse("admin:contingency_ledgerentry_change", args=[entry.pk])
    assert as_superuser.get(url).status_code == 200
    assert AuditEvent.objects.get(action="patient.chart_view").patient_id == episode.patient_id
    assert as_superuser.post(url, {"amount": "26.50"}).status_code == 403
    entry.refresh_from_db()
    assert str(entry.amount) == "10.00"


def test_an_episode_cannot_be_changed_in_the_admin(as_superuser, episode):
    url = reverse("admin:contingency_cmenrollment_change", args=[episode.pk])
    ends = episode.ends_on
    response = as_superuser.post(url, {"ends_on": str(ends + timedelta(days=9))})
    assert response.status_code == 403
    episode.refresh_from_db()
    assert episode.ends_on == ends


def test_a_program_edited_in_the_admin_writes_an_audit_row(as_superuser, program):
    from tests.core.test_admin_audit import change_form_data

    url = reverse("admin:contingency_program_change", args=[program.pk])
    data = change_form_data(as_superuser.get(url))
    # A JSON field posts back as the JSON text its widget shows, with the hidden initial
    # value a callable default adds to the form.
    shown = json.dumps(program.target_analytes)
    data["target_analytes"] = data["initial-target_analytes"] = shown
    data["name"] = "Stimulant CM 2027"
    response = as_superuser.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    program.refresh_from_db()
    assert program.name == "Stimulant CM 2027"
    assert AuditEvent.objects.get(action="program.updated").detail["fields"] == ["name"]
