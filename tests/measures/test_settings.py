"""The director's check-in schedules page: every schedule of one site, validated,
audited, the director's only, inside their organisation."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.models import AuditEvent, Organization, Site
from measures.models import MeasureSchedule

pytestmark = pytest.mark.django_db


def url(site=None):
    base = reverse("measures:settings")
    return f"{base}?site={site.pk}" if site else base


def current(site) -> dict[str, object]:
    data: dict[str, object] = {}
    for row in MeasureSchedule.objects.filter(site=site):
        data[f"s{row.pk}_every_days"] = str(row.every_days)
        for part in ("at_admission", "at_discharge", "is_active"):
            if getattr(row, part):
                data[f"s{row.pk}_{part}"] = "on"
    return data


def bam_op(site):
    return MeasureSchedule.objects.get(site=site, instrument_code="bam", level="1.0")


def test_the_director_sees_every_schedule_of_the_site(client, director, site):
    client.force_login(director)
    response = client.get(url(site))
    assert response.status_code == 200
    assert len(response.context["form"].rows()) == 9
    assert "Check-in schedules · Northside" in response.content.decode()


def test_the_director_changes_a_cadence_and_the_change_is_audited(client, director, site):
    client.force_login(director)
    row = bam_op(site)
    response = client.post(url(site), {**current(site), f"s{row.pk}_every_days": "14"})
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.every_days == 14
    event = AuditEvent.objects.get(action="measures.schedule_updated")
    assert (event.actor, event.site_id) == (director, site.pk)
    assert event.detail["before"]["every_days"] == 30
    assert event.detail["after"]["every_days"] == 14


def test_saving_unchanged_schedules_writes_no_audit_row(client, director, site):
    client.force_login(director)
    assert client.post(url(site), current(site)).status_code == 302
    assert not AuditEvent.objects.filter(action="measures.schedule_updated").exists()


def test_unticking_a_box_turns_the_schedule_off(client, director, site):
    client.force_login(director)
    row = bam_op(site)
    data = current(site)
    del data[f"s{row.pk}_is_active"]
    client.post(url(site), data)
    row.refresh_from_db()
    assert row.is_active is False


@pytest.mark.parametrize("value", ["367", "-1", "weekly", ""])
def test_a_bad_number_of_days_is_refused_with_a_message(client, director, site, value):
    client.force_login(director)
    row = bam_op(site)
    response = client.post(url(site), {**current(site), f"s{row.pk}_every_days": value})
    assert response.status_code == 422
    assert "from 0 (no repeat) to 366" in response.content.decode()
    row.refresh_from_db()
    assert row.every_days == 30


def test_an_active_schedule_that_never_asks_is_refused(client, director, site):
    client.force_login(director)
    row = bam_op(site)
    response = client.post(url(site), {**current(site), f"s{row.pk}_every_days": "0"})
    assert response.status_code == 422
    assert "or turn it off" in response.content.decode()


def test_a_counselor_is_refused(client, counselor, site):
    client.force_login(counselor)
    assert client.get(url(site)).status_code == 403
    row = bam_op(site)
    assert (
        client.post(url(site), {**current(site), f"s{row.pk}_every_days": "7"}).status_code == 403
    )
    row.refresh_from_db()
    assert row.every_days == 30


def test_a_patient_learns_nothing(client, patient, site):
    # Patients probing staff pages get a 404 (core.access.staff_required), not a 403.
    client.force_login(patient.user)
    assert client.get(url(site)).status_code == 404
    assert client.post(url(site), current(site)).status_code == 404


def test_another_organisations_site_is_not_found(client, director, site):
    other_org = Organization.objects.create(name="Elsewhere", mrn_prefix="EL")
    elsewhere = Site.objects.create(
        organization=other_org, name="Far", code="far", time_zone="America/Chicago"
    )
    client.force_login(director)
    assert client.get(url(elsewhere)).status_code == 404
    row = bam_op(elsewhere)
    client.post(url(elsewhere), {**current(elsewhere), f"s{row.pk}_every_days": "7"})
    row.refresh_from_db()
    assert row.every_days == 30


def test_a_row_of_another_site_cannot_be_smuggled_in(client, director, site, other_site):
    client.force_login(director)
    theirs = bam_op(other_site)
    client.post(url(site), {**current(site), f"s{theirs.pk}_every_days": "3"})
    theirs.refresh_from_db()
    assert theirs.every_days == 30
