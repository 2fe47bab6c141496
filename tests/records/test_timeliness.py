"""When a note is due on the site's calendar (weekends and holidays), as the queue counts
it, and the director's note-timeliness report."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from django.urls import reverse

from core.clock import local_datetime
from core.reporting import REPORTS, Filters
from records.clocks import business_days_after, note_due_on
from records.models import ServiceType
from records.reports import PLANS_OVERDUE
from records.selectors.queue import DueCalendar, queue_for
from scheduling.models import Holiday, HolidayStatus
from tests.conftest import NY, PASSWORD

from . import _queue_fixtures as fx
from ._queue_fixtures import make_note, make_plan_version, make_session

supervision = fx.supervision

pytestmark = pytest.mark.django_db

# A Tuesday service; the clinic is closed on Friday Sep 18 2026 (a holiday of its own).
SERVICE = date(2026, 9, 15)
HOLIDAY = date(2026, 9, 18)
MONDAY_DUE = date(2026, 9, 21)


def _at(day: date, hour: int = 12) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=NY)


@pytest.fixture
def closed_friday(site):
    Holiday.objects.update_or_create(
        site=site, date=HOLIDAY, defaults={"name": "Clinic closed", "status": HolidayStatus.CLOSED}
    )


def test_a_note_after_a_friday_holiday_is_due_monday(site, closed_friday):
    assert note_due_on(site, SERVICE, ServiceType.INDIVIDUAL_COUNSELING) == MONDAY_DUE


def test_the_queues_calendar_agrees_with_the_clock_across_weekends_and_holidays(
    site, closed_friday
):
    calendar = DueCalendar([site], SERVICE - timedelta(days=30), SERVICE + timedelta(days=30))
    for offset in range(-30, 31):
        day = SERVICE + timedelta(days=offset)
        assert calendar.note_due_on(site, day, ServiceType.GROUP_COUNSELING) == business_days_after(
            site, day, 3
        ), day


@pytest.mark.parametrize(
    ("now", "due", "overdue"),
    [
        (_at(date(2026, 9, 18)), False, False),  # Friday, the holiday
        (_at(date(2026, 9, 19)), False, False),  # Saturday
        (_at(date(2026, 9, 20)), False, False),  # Sunday
        (_at(date(2026, 9, 21)), True, False),  # Monday: due today
        (_at(date(2026, 9, 22)), True, True),  # Tuesday: overdue
    ],
    ids=["holiday", "saturday", "sunday", "monday", "tuesday"],
)
def test_a_note_due_monday_after_a_friday_holiday_is_not_overdue_before_it(
    site, closed_friday, counselor, patient, track, now, due, overdue
):
    make_note(
        author=counselor,
        patient=patient,
        service_date=SERVICE,
        due_on=note_due_on(site, SERVICE, ServiceType.INDIVIDUAL_COUNSELING),
    )
    make_session(track=track, facilitator=counselor, day=SERVICE, statuses={patient: "present"})
    queue = queue_for(counselor, viewer=counselor, now=now)
    assert len(queue.notes_due) == (1 if due else 0)
    assert len(queue.sessions_due) == (1 if due else 0)
    assert queue.notes_overdue_count == (2 if overdue else 0)
    if due and not overdue:
        assert queue.notes_due[0].due_today and queue.sessions_due[0].due_today
        assert queue.sessions_due[0].due_on == MONDAY_DUE


@pytest.mark.frozen("2026-09-19T11:00:00-04:00")
def test_on_saturday_the_staff_home_counts_no_overdue_note(
    client, site, closed_friday, counselor, patient
):
    make_note(
        author=counselor,
        patient=patient,
        service_date=SERVICE,
        due_on=note_due_on(site, SERVICE, ServiceType.INDIVIDUAL_COUNSELING),
    )
    client.login(username=counselor.username, password=PASSWORD)
    page = client.get(reverse("home")).content.decode()
    summary = page.split('data-testid="records-owed-summary"')[1].split("</p>")[0]
    assert "<strong>0</strong> notes overdue" in summary
    assert "<strong>1</strong> draft," in summary


@pytest.mark.frozen("2026-09-22T11:00:00-04:00")
def test_on_tuesday_the_staff_home_counts_it_overdue(
    client, site, closed_friday, counselor, patient
):
    make_note(
        author=counselor,
        patient=patient,
        service_date=SERVICE,
        due_on=note_due_on(site, SERVICE, ServiceType.INDIVIDUAL_COUNSELING),
    )
    client.login(username=counselor.username, password=PASSWORD)
    page = client.get(reverse("home")).content.decode()
    summary = page.split('data-testid="records-owed-summary"')[1].split("</p>")[0]
    assert "<strong>1</strong> note overdue" in summary


# --- the director's report -----------------------------------------------------------

NOV = date(2026, 11, 2)
OCT = date(2026, 10, 5)
REPORT_TODAY = date(2026, 11, 18)


def _known_notes(*, counselor, director, patient, other_patient):
    signed = local_datetime(NOV, time(17), NY)
    # The counselor in November: 2 on time, 1 late, 1 unsigned past due, 1 not yet due.
    for _ in range(2):
        make_note(author=counselor, patient=patient, service_date=NOV, signed_at=signed)
    make_note(author=counselor, patient=patient, service_date=NOV, signed_at=signed, is_late=True)
    make_note(author=counselor, patient=patient, service_date=NOV, due_on=NOV + timedelta(days=3))
    make_note(author=counselor, patient=patient, service_date=NOV, due_on=REPORT_TODAY)
    # The director in October: 1 on time.
    make_note(
        author=director,
        patient=other_patient,
        service_date=OCT,
        signed_at=local_datetime(OCT, time(17), NY),
        requires_cosign=False,
    )


def _build(org, site):
    spec = REPORTS.get("note-timeliness")
    assert spec is not None
    return spec.build(
        Filters(
            organization_id=org.pk,
            site_ids=[site.pk],
            start=date(2026, 10, 1),
            end=date(2026, 11, 30),
            today=REPORT_TODAY,
        )
    )


def test_the_report_counts_notes_by_clinician_and_month(
    org, site, supervision, counselor, director, patient, other_patient
):
    _known_notes(
        counselor=counselor, director=director, patient=patient, other_patient=other_patient
    )
    make_plan_version(author=counselor, patient=other_patient, signed_at=_at(REPORT_TODAY, 9))
    report = _build(org, site)
    notes = [r for r in report.rows if r[0] != PLANS_OVERDUE]
    assert notes == [
        ["Counselor", "2026-11", 2, 1, 1, 50.0],
        ["Director", "2026-10", 1, 0, 0, 100.0],
    ]
    plans = [r for r in report.rows if r[0] == PLANS_OVERDUE]
    # Robin has no plan, due 7 days after admission; Kim's plan was signed today.
    assert [r[1] for r in plans] == [patient.display_name]
    assert plans[0][2] == "Initial plan"
    assert "1 treatment plan overdue" in report.note
    assert [bar["label"] for bar in report.chart.bars] == ["Counselor", "Director"]


def test_the_report_runs_the_same_queries_whatever_the_size(
    org,
    site,
    supervision,
    counselor,
    director,
    patient,
    other_patient,
    make_patient,
    django_assert_num_queries,
):
    _known_notes(
        counselor=counselor, director=director, patient=patient, other_patient=other_patient
    )
    # The notes by author and month, and the open episodes' plan clock (their sites'
    # rules joined in).
    with django_assert_num_queries(2):
        _build(org, site)
    for _ in range(5):
        p = make_patient()
        make_note(author=counselor, patient=p, service_date=OCT, due_on=OCT + timedelta(days=3))
    with django_assert_num_queries(2):
        _build(org, site)


# The reports page takes "today" from the clock: the instant the data set was written for.
@pytest.mark.frozen("2026-11-18T10:30:00-05:00")
def test_the_report_page_and_csv(
    client, org, site, supervision, counselor, director, patient, other_patient
):
    _known_notes(
        counselor=counselor, director=director, patient=patient, other_patient=other_patient
    )
    client.login(username=director.username, password=PASSWORD)
    url = reverse("reports:detail", args=["note-timeliness"])
    params = {"start": "2026-10-01", "end": "2026-11-30"}
    page = client.get(url, params)
    assert page.status_code == 200
    assert "Note timeliness" in page.content.decode()
    csv = client.get(url, {**params, "format": "csv"})
    assert csv.status_code == 200
    body = b"".join(csv.streaming_content if csv.streaming else [csv.content]).decode("utf-8-sig")
    assert "Counselor,2026-11,2,1,1,50.0" in body


def test_a_month_of_drafts_not_yet_due_has_no_row(org, site, counselor, patient):
    make_note(author=counselor, patient=patient, service_date=NOV, due_on=REPORT_TODAY)
    report = _build(org, site)
    assert [r for r in report.rows if r[0] != PLANS_OVERDUE] == []
