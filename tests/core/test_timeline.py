"""The timeline registry: every app's source, merged newest first, windowed and limited;
each source's entry for a known row."""

from datetime import date, time, timedelta

import pytest

from core.clock import local_datetime
from core.timeline import KINDS, SOURCES, collect, month_of, month_window, previous_month
from tests.patients._timeline_fixtures import (
    make_attendance,
    make_group_note,
    make_meeting,
    make_note,
    make_plan_version,
    make_test,
)


@pytest.fixture
def noon(site, today):
    """Noon of the frozen day on the site's clock (entries are hours before it)."""
    return local_datetime(today, time(12), site.tz)


def test_every_kind_of_the_filter_has_a_source():
    assert {entry.key for entry in SOURCES.entries()} == set(KINDS)


def test_entries_of_every_source_merge_newest_first(patient, counselor, collector, noon):
    make_note(patient, at=noon - timedelta(hours=4), author=counselor)
    make_meeting(patient, at=noon - timedelta(hours=2), logged_by=counselor)
    make_attendance(patient, at=noon - timedelta(hours=1))
    make_test(patient, at=noon - timedelta(hours=3), collector=collector)
    entries = collect(counselor, patient)
    assert [(e.kind, e.title) for e in entries] == [
        ("attendance", "Group therapy"),
        ("meetings", "Narcotics Anonymous (NA) meeting: Hope group"),
        ("tests", "Point-of-care result"),  # entered 5 minutes after the collection
        ("tests", "For cause drug test"),
        ("notes", "Individual progress note"),
    ]
    assert [e.at for e in entries] == sorted((e.at for e in entries), reverse=True)


def test_a_limit_keeps_the_newest_entries(patient, counselor, noon):
    for hours in range(1, 8):
        make_attendance(patient, at=noon - timedelta(days=hours))
        make_meeting(patient, at=noon - timedelta(days=hours, hours=1), logged_by=counselor)
    entries = collect(counselor, patient, limit=5)
    assert len(entries) == 5
    assert entries[0].at == noon - timedelta(days=1)
    assert entries[-1].at == noon - timedelta(days=3)


@pytest.mark.date_sensitive
def test_a_month_window_keeps_only_that_month(patient, site, counselor, today):
    first = today.replace(day=1)
    inside = local_datetime(first, time(0, 30), site.tz)
    before = inside - timedelta(hours=1)  # the evening of the last day of last month
    make_attendance(patient, at=inside)
    make_attendance(patient, at=before)
    start, end = month_window(site, today)
    assert [e.at for e in collect(counselor, patient, start=start, end=end)] == [inside]
    start, end = month_window(site, previous_month(today))
    assert [e.at for e in collect(counselor, patient, start=start, end=end)] == [before]


def test_the_kind_filter_asks_only_that_source(patient, counselor, noon):
    make_attendance(patient, at=noon - timedelta(hours=1))
    make_meeting(patient, at=noon - timedelta(hours=2), logged_by=counselor)
    assert [e.kind for e in collect(counselor, patient, kinds=["meetings"])] == ["meetings"]


def test_a_month_in_the_query_string_is_read_or_falls_back(today):
    assert month_of("2025-02", today) == date(2025, 2, 1)
    for bad in ("", "2025-13", "2025", "99999-01", "1800-01", "abcd-ef", "2025-1x"):
        assert month_of(bad, today) == today.replace(day=1)


# --- each source's entry for a known row ---------------------------------------------


def test_attendance_shows_its_status_and_minutes(patient, counselor, noon):
    row = make_attendance(patient, at=noon - timedelta(days=1), status="late", minutes=150)
    (entry,) = collect(counselor, patient)
    assert (entry.kind, entry.status, entry.detail) == ("attendance", "Late", "150 min credited")
    assert entry.day == row.session.local_date
    assert entry.url == f"/scheduling/sessions/{row.session.pk}/"


def test_an_absence_credits_no_minutes(patient, counselor, noon):
    make_attendance(patient, at=noon - timedelta(days=1), status="unexcused")
    (entry,) = collect(counselor, patient)
    assert (entry.status, entry.detail, entry.badge) == (
        "Unexcused absence",
        "",
        "text-bg-danger",
    )


def test_a_test_shows_its_collection_and_its_result(patient, counselor, collector, noon):
    selection = make_test(
        patient,
        at=noon - timedelta(days=1),
        collector=collector,
        outcome="positive",
        positive=("cocaine",),
    )
    result, test = collect(counselor, patient)
    assert (test.title, test.status, test.labels) == (
        "For cause drug test",
        "Collected",
        ("Positive",),
    )
    assert test.detail == "Urine, observed"
    assert test.at == noon - timedelta(days=1)
    assert (result.title, result.status) == ("Point-of-care result", "Positive")
    assert result.detail == "Positive for Cocaine"
    assert result.url == test.url == f"/drugtests/tests/{selection.pk}/"


def test_a_collector_sees_the_test_without_a_link(patient, collector, noon):
    make_test(patient, at=noon - timedelta(days=1), collector=collector)
    assert {e.url for e in collect(collector, patient)} == {None}


def test_a_meeting_shows_logged_or_verified(patient, counselor, noon):
    make_meeting(patient, at=noon - timedelta(days=1), logged_by=counselor, status="verified")
    make_meeting(
        patient,
        at=noon - timedelta(days=2),
        logged_by=patient.user,
        status="pending",
        name="Step study",
    )
    verified, logged = collect(counselor, patient)
    assert (verified.status, verified.detail) == ("Verified", "Online · logged by staff")
    assert logged.title == "Narcotics Anonymous (NA) meeting: Step study"
    assert (logged.status, logged.detail) == (
        "Logged, not yet verified",
        "Online · logged by the patient",
    )


@pytest.mark.parametrize(
    ("kind", "title"),
    [
        ("individual", "Individual progress note"),
        ("family", "Family progress note"),
        ("mat", "MAT visit note"),
    ],
)
def test_a_note_shows_its_kind_status_and_author(patient, counselor, noon, kind, title):
    make_note(patient, at=noon - timedelta(days=1), author=counselor, kind=kind)
    (entry,) = collect(counselor, patient)
    assert (entry.kind, entry.title, entry.status, entry.labels) == ("notes", title, "Signed", ())
    assert entry.detail.endswith("by Counselor, CADC-T")


def test_an_attendees_group_note_shows_its_topic_and_minutes(patient, counselor, noon):
    attendance = make_attendance(patient, at=noon - timedelta(days=1), status="late")
    make_group_note(patient, attendance=attendance, author=counselor)
    notes = collect(counselor, patient, kinds=["notes"])
    assert [(e.title, e.status) for e in notes] == [("Group note", "Signed")]
    assert notes[0].detail.startswith("Coping with cravings · Group counseling · ")
    assert " · 170 min · by Counselor" in notes[0].detail


def test_a_late_note_is_labelled_late_entry(patient, counselor, noon):
    make_note(patient, at=noon - timedelta(days=9), author=counselor, late=True)
    (entry,) = collect(counselor, patient)
    assert entry.labels == ("Late entry",)


def test_a_note_waiting_for_its_cosignature_says_so(patient, counselor, noon):
    make_note(patient, at=noon - timedelta(days=1), author=counselor, requires_cosign=True)
    (entry,) = collect(counselor, patient)
    assert entry.status == "Signed, awaiting co-signature"


def test_a_draft_note_shows_to_clinicians_only(patient, counselor, frontdesk, noon):
    make_note(patient, at=noon - timedelta(days=1), author=counselor, status="draft")
    assert [e.status for e in collect(counselor, patient)] == ["Draft"]
    assert collect(frontdesk, patient) == []


def test_front_desk_sees_that_a_note_exists_and_nothing_of_it(patient, counselor, frontdesk, noon):
    make_note(patient, at=noon - timedelta(days=1), author=counselor, kind="mat", late=True)
    (entry,) = collect(frontdesk, patient)
    assert (entry.title, entry.status, entry.labels) == ("Progress note", "Signed", ("Late entry",))
    assert (entry.detail, entry.url) == ("", None)


def test_a_signed_plan_version_shows_with_its_signer(patient, counselor, frontdesk, noon):
    make_plan_version(patient, signed_at=noon - timedelta(days=3), author=counselor)
    (entry,) = collect(counselor, patient)
    assert (entry.title, entry.status) == ("Treatment plan, version 1", "Signed")
    assert entry.detail == "Initial plan · by Counselor, LCSW"
    (hidden,) = collect(frontdesk, patient)
    assert (hidden.title, hidden.detail, hidden.url) == ("Treatment plan", "", None)
