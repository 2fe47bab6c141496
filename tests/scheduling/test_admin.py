"""Holidays entered in the admin go through the service: that day's sessions are cancelled."""

from datetime import date

import pytest

from scheduling.models import Holiday, Session, SessionStatus
from tests.conftest import SCENARIO_NOW

pytestmark = [pytest.mark.frozen(SCENARIO_NOW), pytest.mark.django_db]


def test_admin_holiday_cancels_the_days_sessions(client, admin_user, evening_series, track):
    client.force_login(admin_user)
    response = client.post(
        "/admin/scheduling/holiday/add/",
        {"site": track.site_id, "date": "2026-12-03", "name": "Staff retreat"},
    )
    assert response.status_code == 302, response.content[:500]
    # Not a public holiday, so not seeded with the site: this row is the admin's.
    assert Holiday.objects.get(site=track.site, date=date(2026, 12, 3)).name == "Staff retreat"
    session = Session.objects.get(series=evening_series, local_date=date(2026, 12, 3))
    assert session.status == SessionStatus.CANCELLED
    assert Session.objects.filter(
        series=evening_series, local_date=date(2026, 12, 7), status=SessionStatus.SCHEDULED
    ).exists()


def test_admin_cannot_delete_sessions_or_attendance(client, admin_user, evening_series):
    client.force_login(admin_user)
    session = Session.objects.filter(series=evening_series).first()
    response = client.get(f"/admin/scheduling/session/{session.pk}/delete/")
    assert response.status_code == 403


def test_admin_holiday_in_the_past_is_refused_on_the_form_not_a_server_error(
    client, admin_user, site
):
    client.force_login(admin_user)
    response = client.post(
        "/admin/scheduling/holiday/add/",
        {"site": site.pk, "date": "2026-10-01", "name": "Too late"},
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["date"]
    assert not Holiday.objects.filter(site=site, date=date(2026, 10, 1)).exists()


def test_admin_holiday_already_closed_is_refused_on_the_form(client, admin_user, site):
    client.force_login(admin_user)
    response = client.post(
        "/admin/scheduling/holiday/add/",
        {"site": site.pk, "date": "2026-11-26", "name": "Thanksgiving again"},
    )
    assert response.status_code == 200
    assert "already a holiday" in str(response.context["adminform"].form.errors)


def test_admin_renames_a_holiday_audited_but_cannot_move_it(client, admin_user, site):
    from core.models import AuditEvent

    holiday = Holiday.objects.get(site=site, date=date(2026, 11, 26))
    client.force_login(admin_user)
    response = client.post(
        f"/admin/scheduling/holiday/{holiday.pk}/change/",
        {"site": site.pk, "date": "2026-11-27", "name": "Thanksgiving (closed)"},
    )
    assert response.status_code == 302
    holiday.refresh_from_db()
    assert (holiday.date, holiday.name) == (date(2026, 11, 26), "Thanksgiving (closed)")
    row = AuditEvent.objects.get(action="holiday.updated")
    assert row.object_id == str(holiday.pk) and row.site_id == site.pk
    assert row.detail == {"via": "admin", "fields": ["name"]}
