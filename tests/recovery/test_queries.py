"""Pinned query counts: the same ceiling with little data and with ten times more."""

from datetime import date, datetime, timedelta

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from recovery import panels
from recovery.services.homework import (
    homework_assign,
    homework_review,
    homework_submit,
    homework_template_create,
)
from recovery.services.meetings import meeting_log, meeting_review
from tests.recovery.conftest import NOW, NY, pdf_bytes, png_bytes, upload

# Ceilings as measured: for pages, session + user + staff profile/patient lookups and the
# session save (savepoint, update, release); then the app's own reads. Panels: only their
# own reads. The same ceiling holds for 1 patient and for 5 with 2x the history each.
# Measured on PostgreSQL (the audit row's advisory lock is a query SQLite does not run).
# A counselor's access rule reads their sites first (one small query), see patients/access.py.
QUEUE_QUERIES = 15  # includes the audit row of the read
PORTAL_HOMEWORK_QUERIES = 10
PORTAL_MEETINGS_QUERIES = 13
STAFF_PATIENT_PAGE_QUERIES = 23  # includes the audit row of the read
CHART_PANEL_QUERIES = 8
PORTAL_PANEL_QUERIES = 6
STAFF_PANEL_QUERIES = 3
WEEKLY_QUERIES = 16  # includes the audit row of the read


def _fill(patient, counselor, templates, *, meetings: int, homework: int):
    """Meetings (pending, verified, rejected) and homework at every status, with files."""
    for i in range(meetings):
        m = meeting_log(
            actor=patient.user or counselor,
            patient=patient,
            held_at=datetime(2026, 11, 16, 9, tzinfo=NY) + timedelta(hours=7 * i),
            fellowship="aa",
            name=f"Group {i}",
            mode="online",
            sheet=upload(png_bytes(), "s.png") if i % 2 == 0 else None,
            now=NOW,
        )
        if i % 3 == 1:
            meeting_review(actor=counselor, meeting=m, verify=True, now=NOW)
        elif i % 3 == 2:
            meeting_review(actor=counselor, meeting=m, verify=False, reason="no", now=NOW)
    for i in range(homework):
        a = homework_assign(
            actor=counselor,
            patient=patient,
            template=templates[i % len(templates)],
            due_date=date(2026, 11, 23) + timedelta(days=i),
            now=NOW,
        )
        if i % 4 == 0:
            continue  # assigned
        s = homework_submit(
            actor=patient.user or counselor,
            assignment=a,
            text="answer",
            files=[upload(pdf_bytes(), "a.pdf")],
            now=NOW,
        )
        if i % 4 == 2:
            homework_review(actor=counselor, submission=s, accept=False, comment="c")
        elif i % 4 == 3:
            homework_review(actor=counselor, submission=s, accept=True)


@pytest.fixture
def library(site, counselor):
    return [
        homework_template_create(
            actor=counselor, site=site, title=f"Worksheet {i}", instructions="Do it", now=NOW
        )
        for i in range(12)
    ]


@pytest.fixture(params=[1, 5], ids=["small", "large"])
def size(request):
    return request.param


@pytest.fixture
def caseload(make_patient, counselor, library, requirement, size):
    """``size`` patients on the counselor's caseload, each with ``size``-scaled history."""
    people = [make_patient(portal=True) for _ in range(size)]
    for p in people:
        _fill(p, counselor, library, meetings=2 + size, homework=4 + size)
    return people


def test_counselor_queue_query_count(client, counselor, caseload, django_assert_max_num_queries):
    client.force_login(counselor)
    with django_assert_max_num_queries(QUEUE_QUERIES):
        response = client.get(reverse("recovery:queue"))
    assert response.status_code == 200
    assert len(response.context["queue"].meetings) >= len(caseload)


def test_portal_homework_query_count(client, caseload, django_assert_max_num_queries):
    client.force_login(caseload[0].user)
    with django_assert_max_num_queries(PORTAL_HOMEWORK_QUERIES):
        response = client.get(reverse("recovery:portal_homework"))
    assert response.status_code == 200 and response.context["homework"]


def test_portal_meetings_query_count(client, caseload, django_assert_max_num_queries):
    client.force_login(caseload[0].user)
    with django_assert_max_num_queries(PORTAL_MEETINGS_QUERIES):
        response = client.get(reverse("recovery:portal_meetings"))
    assert response.status_code == 200 and response.context["meetings"]


def test_staff_patient_page_query_count(client, counselor, caseload, django_assert_max_num_queries):
    client.force_login(counselor)
    url = reverse("recovery:patient", args=[caseload[-1].pk])
    with django_assert_max_num_queries(STAFF_PATIENT_PAGE_QUERIES):
        response = client.get(url)
    assert response.status_code == 200
    statuses = {h.status for h in response.context["homework"]}
    assert {"assigned", "submitted", "returned", "accepted"} <= statuses


def _request(user):
    request = RequestFactory().get("/")
    request.user = user
    return request


def test_chart_panel_query_count(counselor, caseload, django_assert_max_num_queries):
    patient = caseload[-1]
    with django_assert_max_num_queries(CHART_PANEL_QUERIES):
        panel = panels.chart(_request(counselor), patient)
        html = render_to_string(panel.template, {"panel": panel.context})
    assert "Meetings and homework" in html


def test_portal_home_panel_query_count(caseload, django_assert_max_num_queries):
    patient = caseload[-1]
    with django_assert_max_num_queries(PORTAL_PANEL_QUERIES):
        panel = panels.portal_home(_request(patient.user), patient)
        html = render_to_string(panel.template, {"panel": panel.context})
    assert "Homework to do" in html


def test_staff_home_panel_query_count(counselor, caseload, django_assert_max_num_queries):
    with django_assert_max_num_queries(STAFF_PANEL_QUERIES):
        panel = panels.staff_home(_request(counselor), sites=[])
        html = render_to_string(panel.template, {"panel": panel.context})
    assert panel.context["counts"]["meetings"] >= len(caseload)
    assert "waiting for verification" in html


def test_weekly_compliance_page_query_count(
    client, counselor, caseload, django_assert_max_num_queries
):
    client.force_login(counselor)
    with django_assert_max_num_queries(WEEKLY_QUERIES):
        response = client.get(reverse("recovery:weekly") + "?week=2026-11-16")
    assert response.status_code == 200
    assert len(response.context["rows"]) == len(caseload)
