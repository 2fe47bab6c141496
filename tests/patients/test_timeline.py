"""The chart's timeline panel and the full timeline page: a month at a page, a kind
filter, the chart's access rule and audit, and what front desk and collectors see."""

from datetime import time, timedelta

import pytest
from django.urls import reverse

from core.clock import local_datetime
from core.models import AuditEvent, Organization, Site, StaffProfile
from core.timeline import next_month, previous_month
from tests.patients._timeline_fixtures import (
    make_attendance,
    make_meeting,
    make_note,
    make_test,
)

SECRET = "Discussed the custody hearing with her sister"


def chart_url(patient):
    return reverse("patients:chart", args=[patient.pk])


def timeline_url(patient, **query):
    url = reverse("patients:timeline", args=[patient.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


@pytest.fixture
def this_month(site, today):
    """Noon of the first of the frozen month, and of the month before, on the site's clock."""
    first = today.replace(day=1)
    return (
        local_datetime(first, time(12), site.tz),
        local_datetime(previous_month(first), time(12), site.tz),
    )


def entries_of(response):
    return [(e.kind, e.at) for e in response.context["entries"]]


def test_the_chart_shows_the_newest_fifteen_entries_and_links_the_timeline(
    client, counselor, patient, site, today
):
    noon = local_datetime(today, time(12), site.tz)
    for day in range(20):
        make_attendance(patient, at=noon - timedelta(days=day + 1))
    client.force_login(counselor)
    response = client.get(chart_url(patient))
    timeline = response.context["timeline"]
    assert len(timeline) == 15
    assert timeline[0].at == noon - timedelta(days=1)
    assert timeline[-1].at == noon - timedelta(days=15)
    page = response.content.decode()
    assert 'data-testid="chart-timeline"' in page
    assert f'href="{timeline_url(patient)}"' in page


@pytest.mark.date_sensitive
def test_the_timeline_page_shows_this_month_newest_first(client, counselor, patient, this_month):
    current, earlier = this_month
    make_attendance(patient, at=current)
    make_meeting(patient, at=current + timedelta(hours=2), logged_by=counselor)
    make_attendance(patient, at=earlier)
    client.force_login(counselor)
    response = client.get(timeline_url(patient))
    assert response.status_code == 200
    assert entries_of(response) == [
        ("meetings", current + timedelta(hours=2)),
        ("attendance", current),
    ]
    assert response.context["newer"] is None
    older = response.context["older"]
    assert older == previous_month(current.date())
    assert f"?month={older:%Y-%m}" in response.content.decode()


@pytest.mark.date_sensitive
def test_an_older_month_pages_back_and_links_forward(client, counselor, patient, this_month):
    current, earlier = this_month
    make_attendance(patient, at=current)
    make_attendance(patient, at=earlier)
    client.force_login(counselor)
    response = client.get(timeline_url(patient, month=f"{earlier:%Y-%m}"))
    assert entries_of(response) == [("attendance", earlier)]
    assert response.context["newer"] == current.date().replace(day=1)


def test_the_oldest_month_is_that_of_the_first_admission(client, counselor, patient):
    admitted = patient.enrollments.get().admission_date
    client.force_login(counselor)
    response = client.get(timeline_url(patient, month=f"{admitted:%Y-%m}"))
    assert response.context["older"] is None
    assert response.context["month"] == admitted.replace(day=1)


@pytest.mark.date_sensitive
def test_a_month_ahead_or_unreadable_shows_this_month(client, counselor, patient, today):
    client.force_login(counselor)
    ahead = next_month(today)
    for month in (f"{ahead:%Y-%m}", "garbage", "2026-00", "<script>"):
        response = client.get(timeline_url(patient, month=month))
        assert response.status_code == 200
        assert response.context["month"] == today.replace(day=1)


def test_the_kind_filter_shows_one_kind(client, counselor, collector, patient, this_month):
    current, _ = this_month
    make_attendance(patient, at=current)
    make_test(patient, at=current + timedelta(hours=1), collector=collector)
    make_note(patient, at=current + timedelta(hours=2), author=counselor)
    client.force_login(counselor)
    response = client.get(timeline_url(patient, kind="tests"))
    assert {kind for kind, _ in entries_of(response)} == {"tests"}
    assert len(entries_of(response)) == 2  # the collection and its result
    response = client.get(timeline_url(patient, kind="nonsense"))
    assert response.context["kind"] == ""
    assert len(entries_of(response)) == 4


def test_a_late_signed_note_shows_its_label_and_status(client, counselor, patient, this_month):
    current, _ = this_month
    make_note(patient, at=current, author=counselor, late=True)
    client.force_login(counselor)
    page = client.get(timeline_url(patient)).content.decode()
    assert "Individual progress note" in page
    assert "Late entry" in page
    assert ">Signed<" in page


def test_the_timeline_view_is_audited(client, counselor, patient):
    client.force_login(counselor)
    client.get(timeline_url(patient, kind="notes"))
    event = AuditEvent.objects.get(action="patient.timeline_view", patient_id=patient.pk)
    assert event.actor == counselor
    assert event.outcome == AuditEvent.Outcome.OK
    assert event.detail["kind"] == "notes"


# --- access ----------------------------------------------------------------------------


def test_a_colleague_gets_what_the_chart_gives(client, other_counselor, patient):
    client.force_login(other_counselor)
    chart = client.get(chart_url(patient)).status_code
    assert client.get(timeline_url(patient)).status_code == chart


def test_staff_of_another_site_get_404_and_an_audit_row(client, outside_counselor, patient):
    client.force_login(outside_counselor)
    assert client.get(timeline_url(patient)).status_code == 404
    assert AuditEvent.objects.filter(
        action="patient.timeline_view",
        patient_id=patient.pk,
        actor=outside_counselor,
        outcome=AuditEvent.Outcome.DENIED,
    ).exists()


def test_a_director_of_another_organisation_gets_404_and_an_audit_row(
    client, patient, django_user_model
):
    org = Organization.objects.create(name="Elsewhere", mrn_prefix="EL")
    Site.objects.create(organization=org, name="Far", code="far", time_zone="America/Chicago")
    user = django_user_model.objects.create_user(username="far_director", password="x" * 16)
    StaffProfile.objects.create(user=user, organization=org, role="director")
    client.force_login(user)
    assert client.get(timeline_url(patient)).status_code == 404
    assert AuditEvent.objects.filter(
        action="patient.timeline_view", patient_id=patient.pk, actor=user, outcome="denied"
    ).exists()


def test_a_patient_cannot_open_a_timeline(client, patient):
    client.force_login(patient.user)
    assert client.get(timeline_url(patient)).status_code in (403, 404)


@pytest.mark.parametrize("role", ["frontdesk", "collector"])
def test_front_desk_and_collectors_see_no_note_text(
    client, counselor, patient, this_month, role, request
):
    current, _ = this_month
    make_note(patient, at=current, author=counselor, kind="family", data=SECRET)
    make_note(patient, at=current + timedelta(hours=1), author=counselor, status="draft")
    client.force_login(request.getfixturevalue(role))
    for response in (client.get(timeline_url(patient)), client.get(chart_url(patient))):
        assert response.status_code == 200
        page = response.content.decode()
        assert "Progress note" in page
        assert ">Signed<" in page
        for hidden in (SECRET, "Family", "Counselor, CADC-T", ">Draft<", "/records/notes/"):
            assert hidden not in page


def test_a_clinician_sees_the_note_but_not_its_text(client, counselor, patient, this_month):
    current, _ = this_month
    make_note(patient, at=current, author=counselor, kind="family", data=SECRET)
    client.force_login(counselor)
    page = client.get(timeline_url(patient)).content.decode()
    assert "Family progress note" in page
    assert "by Counselor, CADC-T" in page
    assert SECRET not in page  # the text is read on the note's own (audited) page
