"""Pages: access rules, attendance screen (plain form and htmx), calendar, compliance,
billing CSV, portal schedule; query counts pinned at two data sizes."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from scheduling.models import Attendance, AttendanceChange, Session, SessionStatus
from scheduling.services.attendance import attendance_record
from scheduling.services.bookings import individual_session_book
from scheduling.services.materialization import sessions_materialize
from scheduling.services.series import series_create
from tests.conftest import SCENARIO_NOW

from .conftest import MONDAY

pytestmark = [pytest.mark.frozen(SCENARIO_NOW), pytest.mark.django_db]

NY = ZoneInfo("America/New_York")


@pytest.fixture
def held_session(track, make_session):
    """An evening group that started an hour ago (site-local), so attendance is open."""
    start = (timezone.now() - timedelta(hours=1)).astimezone(NY)
    session = make_session(track, start.date())
    Session.objects.filter(pk=session.pk).update(
        starts_at=start, ends_at=start + timedelta(hours=3), local_date=start.date()
    )
    session.refresh_from_db()
    return session


def _post_row(client, session, patient, **data):
    prefix = f"p{patient.pk}-"
    body = {prefix + k: v for k, v in data.items()}
    return client.post(reverse("scheduling:attendance_mark", args=[session.pk, patient.pk]), body)


def test_plain_form_marks_attendance(client, counselor, held_session, make_patient, track):
    p = make_patient(track=track)
    client.force_login(counselor)
    response = _post_row(client, held_session, p, status="present")
    assert response.status_code == 302
    row = Attendance.objects.get(session=held_session, patient=p)
    assert row.status == "present" and row.minutes_credited == 180


def test_htmx_marks_attendance_and_returns_the_row(
    client, counselor, held_session, make_patient, track
):
    p = make_patient(track=track)
    client.force_login(counselor)
    response = client.post(
        reverse("scheduling:attendance_mark", args=[held_session.pk, p.pk]),
        {f"p{p.pk}-status": "excused", f"p{p.pk}-note": "Called in sick"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert b"Excused absence" in response.content and b"<html" not in response.content
    row = Attendance.objects.get(session=held_session, patient=p)
    assert (row.status, row.note) == ("excused", "Called in sick")


def test_late_without_arrival_time_shows_the_error(
    client, counselor, held_session, make_patient, track
):
    p = make_patient(track=track)
    client.force_login(counselor)
    response = _post_row(client, held_session, p, status="late")
    assert response.status_code == 422
    assert b"late arrival needs the time" in response.content
    assert not Attendance.objects.exists()


def test_all_present_in_one_click(client, counselor, held_session, make_patient, track):
    people = [make_patient(track=track) for _ in range(3)]
    client.force_login(counselor)
    response = client.post(reverse("scheduling:all_present", args=[held_session.pk]))
    assert response.status_code == 302
    assert Attendance.objects.filter(session=held_session, status="present").count() == len(people)


def test_old_session_edit_without_reason_is_refused_then_kept_with_reason(
    client, counselor, track, make_session, make_patient
):
    p = make_patient(track=track)
    old = make_session(track, timezone.localdate(timezone.now(), NY) - timedelta(days=10))
    client.force_login(counselor)
    response = _post_row(client, old, p, status="present")
    assert response.status_code == 422
    assert not Attendance.objects.exists()
    response = _post_row(client, old, p, status="present", reason="Paper sign-in sheet")
    assert response.status_code == 302
    assert AttendanceChange.objects.get().reason == "Paper sign-in sheet"


def test_attendance_sheet_shows_the_panels_of_the_apps_above(client, counselor, held_session):
    """The free-text group note moved to the clinical record (#17): the sheet shows what
    the apps register on its "attendance" hook, here the group note and sign-in sheet."""
    client.force_login(counselor)
    body = client.get(reverse("scheduling:attendance", args=[held_session.pk])).content.decode()
    assert reverse("records:group_note", args=[held_session.pk]) in body
    assert reverse("records:signin_sheet", args=[held_session.pk]) in body


def test_make_up_over_capacity_shows_a_form_error(
    client, counselor, held_session, make_patient, track, day_track
):
    Session.objects.filter(pk=held_session.pk).update(capacity=1)
    make_patient(track=track)
    guest = make_patient(track=day_track)
    client.force_login(counselor)
    response = client.post(
        reverse("scheduling:make_up", args=[held_session.pk]), {"patient": guest.pk}
    )
    assert response.status_code == 422
    assert b"The session is full" in response.content
    assert not Attendance.objects.filter(patient=guest).exists()


def test_cancel_page_cancels(client, counselor, track, make_session):
    future = make_session(track, timezone.localdate(timezone.now(), NY) + timedelta(days=3))
    client.force_login(counselor)
    response = client.post(
        reverse("scheduling:session_cancel", args=[future.pk]), {"reason": "Snow storm"}
    )
    assert response.status_code == 302
    future.refresh_from_db()
    assert (future.status, future.status_reason) == (SessionStatus.CANCELLED, "Snow storm")


def test_booking_page_refuses_double_booking(client, counselor, patient, other_patient):
    client.force_login(counselor)
    day = timezone.localdate(timezone.now(), NY) + timedelta(days=2)
    form = {
        "kind": "individual",
        "day": day.isoformat(),
        "start": "10:00",
        "end": "11:00",
        "facilitator": counselor.pk,
        "room": "Office 1",
    }
    assert client.post(reverse("scheduling:book", args=[patient.pk]), form).status_code == 302
    response = client.post(reverse("scheduling:book", args=[other_patient.pk]), form)
    assert response.status_code == 422
    assert b"already booked" in response.content
    assert Session.objects.count() == 1


def test_booking_page_refuses_end_before_start(client, counselor, patient):
    client.force_login(counselor)
    response = client.post(
        reverse("scheduling:book", args=[patient.pk]),
        {
            "kind": "individual",
            "day": "2026-12-01",
            "start": "11:00",
            "end": "10:00",
            "facilitator": counselor.pk,
        },
    )
    assert response.status_code == 422
    assert not Session.objects.exists()


def test_series_form_creates_series_and_sessions(client, counselor, track):
    client.force_login(counselor)
    today = timezone.localdate(timezone.now(), NY)
    response = client.post(
        reverse("scheduling:series_create", args=[track.pk]),
        {
            "kind": "group",
            "weekdays": ["MO", "TU", "TH"],
            "start_time": "18:00",
            "end_time": "21:00",
            "starts_on": today.isoformat(),
        },
    )
    assert response.status_code == 302
    assert track.series.get().rrule == "FREQ=WEEKLY;BYDAY=MO,TU,TH"
    assert Session.objects.filter(track=track).count() >= 17


def test_series_form_on_a_closed_day_shows_the_error(client, counselor, track):
    client.force_login(counselor)
    response = client.post(
        reverse("scheduling:series_create", args=[track.pk]),
        {
            "kind": "group",
            "weekdays": ["SU"],
            "start_time": "18:00",
            "end_time": "21:00",
            "starts_on": "2026-12-01",
        },
    )
    assert response.status_code == 422
    assert b"closed on Sun" in response.content


# --- access -----------------------------------------------------------------


def test_other_site_staff_get_404_on_a_session(client, outside_counselor, held_session):
    client.force_login(outside_counselor)
    assert client.get(reverse("scheduling:attendance", args=[held_session.pk])).status_code == 404


def test_other_site_staff_cannot_mark_attendance(
    client, outside_counselor, held_session, make_patient, track
):
    p = make_patient(track=track)
    client.force_login(outside_counselor)
    assert _post_row(client, held_session, p, status="present").status_code == 404
    assert not Attendance.objects.exists()


def test_other_site_staff_get_404_on_a_track_calendar(client, outside_counselor, track):
    client.force_login(outside_counselor)
    response = client.get(reverse("scheduling:calendar"), {"track": track.pk})
    assert response.status_code == 404
    response = client.get(reverse("scheduling:calendar"), {"site": track.site_id})
    assert response.status_code == 404


def test_colleague_at_the_same_site_sees_the_session(client, other_counselor, held_session):
    client.force_login(other_counselor)
    assert client.get(reverse("scheduling:attendance", args=[held_session.pk])).status_code == 200


def test_individual_session_of_a_patient_outside_caseload_is_404(
    client, counselor, other_counselor, patient
):
    session = individual_session_book(
        actor=counselor,
        patient=patient,
        kind="individual",
        starts_at=datetime(2026, 12, 1, 10, tzinfo=NY),
        ends_at=datetime(2026, 12, 1, 11, tzinfo=NY),
        facilitator=counselor,
        now=datetime(2026, 11, 22, tzinfo=NY),
    )
    client.force_login(other_counselor)
    assert client.get(reverse("scheduling:attendance", args=[session.pk])).status_code == 404
    client.force_login(counselor)
    assert client.get(reverse("scheduling:attendance", args=[session.pk])).status_code == 200


@pytest.mark.parametrize(
    "name",
    [
        "scheduling:calendar",
        "scheduling:my_sessions",
        "scheduling:compliance",
        "scheduling:billing",
    ],
)
def test_patients_cannot_open_staff_pages(client, patient, name):
    client.force_login(patient.user)
    # core.access answers a patient probing a staff URL with 404 (a role mismatch is 403).
    assert client.get(reverse(name)).status_code in (403, 404)


def test_patient_cannot_open_a_session_page(client, patient, held_session):
    client.force_login(patient.user)
    response = client.get(reverse("scheduling:attendance", args=[held_session.pk]))
    assert response.status_code in (403, 404)


def test_collector_cannot_take_attendance(client, collector, held_session, make_patient, track):
    p = make_patient(track=track)
    client.force_login(collector)
    assert _post_row(client, held_session, p, status="present").status_code == 403


def test_staff_cannot_open_the_portal_schedule(client, counselor):
    client.force_login(counselor)
    assert client.get(reverse("scheduling:portal_schedule")).status_code == 403


def test_compliance_lists_only_visible_patients(
    client, counselor, other_counselor, make_patient, track
):
    mine = make_patient(first="Mine", track=track)
    theirs = make_patient(first="Theirs", counselor_user=other_counselor)
    client.force_login(counselor)
    response = client.get(reverse("scheduling:compliance"))
    assert response.status_code == 200
    assert f"hours-{mine.pk}".encode() in response.content
    assert f"hours-{theirs.pk}".encode() not in response.content


def test_billing_csv_export(client, director, track, week_sessions, make_patient):
    p = make_patient(track=track)
    attendance_record(
        actor=None,
        session=week_sessions[0],
        patient=p,
        status="present",
        now=datetime(2026, 11, 16, 22, tzinfo=NY),
    )
    client.force_login(director)
    response = client.get(
        reverse("scheduling:billing"),
        {"site": track.site_id, "week": MONDAY.isoformat(), "format": "csv"},
    )
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    lines = response.content.decode("utf-8-sig").strip().splitlines()
    assert lines[0] == "date,mrn,patient,sessions,attended_minutes,meets_iop_day"
    assert lines[1].startswith(f"2026-11-16,{p.mrn},") and lines[1].endswith(",1,180,yes")


def test_billing_csv_escapes_formulas_keeps_accents_and_names_the_file(
    client, director, track, week_sessions, make_patient, test_now
):
    p = make_patient(track=track, last="Muñoz")
    # Names reach the export however they were stored (an import, the admin, an old row).
    type(p).objects.filter(pk=p.pk).update(preferred_name='=HYPERLINK("http://x")')
    attendance_record(
        actor=None,
        session=week_sessions[0],
        patient=p,
        status="present",
        now=datetime(2026, 11, 16, 22, tzinfo=NY),
    )
    client.force_login(director)
    response = client.get(
        reverse("scheduling:billing"),
        {"site": track.site_id, "week": MONDAY.isoformat(), "format": "csv"},
    )
    assert response.content.startswith(b"\xef\xbb\xbf")
    text = response.content.decode("utf-8-sig")
    assert '\'=HYPERLINK(""http://x"") Muñoz' in text
    day = test_now.astimezone(NY).date().isoformat()
    assert response["Content-Disposition"] == (
        f'attachment; filename="stepwise-billing-days-north-{day}.csv"'
    )


# --- query counts -------------------------------------------------------------


def _roster(make_patient, track, n):
    return [make_patient(track=track) for _ in range(n)]


@pytest.mark.parametrize("size", [2, 12])
def test_attendance_screen_query_count_is_fixed(
    client, counselor, held_session, make_patient, track, django_assert_max_num_queries, size
):
    people = _roster(make_patient, track, size)
    for p in people[: size // 2]:
        attendance_record(actor=counselor, session=held_session, patient=p, status="present")
    client.force_login(counselor)
    # Two access checks each read the counselor's sites first (patients/access.py); one
    # more for the panels of the "attendance" hook (the record's group note, #17). #20:
    # 16 measured at both sizes (the margin of 20 hid nothing; the rows' forms, no query).
    with django_assert_max_num_queries(16):
        response = client.get(reverse("scheduling:attendance", args=[held_session.pk]))
    assert response.status_code == 200
    assert response.content.count(b'class="attendance-row') == size


@pytest.mark.parametrize("roster", [3, 12])
@pytest.mark.date_sensitive
def test_calendar_query_count_is_fixed(
    client, counselor, track, day_track, make_patient, django_assert_max_num_queries, roster, today
):
    for t in (track, day_track):
        series_create(
            actor=None,
            track=t,
            weekdays=["MO", "TU", "WE", "TH", "FR"],
            start_time=time(9) if t == day_track else time(18),
            end_time=time(12) if t == day_track else time(21),
            starts_on=today - timedelta(days=80),
        )
    _roster(make_patient, track, roster)
    client.force_login(counselor)
    # 13 on a week with sessions still to come (rosters and marks are read); a week whose
    # sessions are all past, seen on a Sunday, costs 3 fewer. The limit was once measured
    # on a Sunday only and failed every weekday.
    with django_assert_max_num_queries(13):
        response = client.get(reverse("scheduling:calendar"))
    assert response.status_code == 200
    with django_assert_max_num_queries(13):
        response = client.get(reverse("scheduling:calendar"), {"track": track.pk})
    assert response.status_code == 200


@pytest.mark.parametrize("size", [2, 10])
def test_compliance_query_count_is_fixed(
    client, director, track, week_sessions, make_patient, django_assert_max_num_queries, size
):
    _roster(make_patient, track, size)
    client.force_login(director)
    # 13 measured on a cold first request (10 once per-process caches are warm, pinned in
    # test_weekly_hours_table); #20's precomputed hours read as many queries as before.
    with django_assert_max_num_queries(13):
        response = client.get(reverse("scheduling:compliance"), {"week": MONDAY.isoformat()})
    assert response.status_code == 200
    assert response.content.count(b'data-testid="hours-') == size


def test_pages_have_no_inline_styles_or_scripts(
    client, counselor, held_session, make_patient, track
):
    """Strict CSP: no style= attributes, inline scripts or on* handlers in our pages."""
    make_patient(track=track)
    client.force_login(counselor)
    pages = [
        reverse("scheduling:attendance", args=[held_session.pk]),
        reverse("scheduling:calendar"),
        reverse("scheduling:series_create", args=[track.pk]),
        reverse("scheduling:compliance"),
    ]
    for url in pages:
        html = client.get(url).content.decode()
        assert " style=" not in html, url
        assert "onclick=" not in html and "onchange=" not in html, url
        assert "<script>" not in html, url


def test_series_edit_page_changes_future_sessions_only(client, counselor, track):
    today = timezone.localdate(timezone.now(), NY)
    series = series_create(
        actor=None,
        track=track,
        weekdays=["MO", "TU", "TH"],
        start_time=time(18),
        end_time=time(21),
        starts_on=today - timedelta(days=21),
    )
    sessions_materialize(site=track.site, first=today - timedelta(days=21))
    past = set(
        Session.objects.filter(track=track, local_date__lt=today).values_list("pk", "starts_at")
    )
    client.force_login(counselor)
    effective = today + timedelta(days=1)
    response = client.post(
        reverse("scheduling:series_edit", args=[series.pk]),
        {
            "kind": "group",
            "weekdays": ["MO", "WE"],
            "start_time": "17:00",
            "end_time": "20:00",
            "starts_on": effective.isoformat(),
        },
    )
    assert response.status_code == 302
    assert (
        set(
            Session.objects.filter(track=track, local_date__lt=today).values_list("pk", "starts_at")
        )
        == past
    )
    future = Session.objects.filter(
        track=track, local_date__gte=effective, status=SessionStatus.SCHEDULED
    )
    assert future.exists()
    assert {s.starts_at.astimezone(NY).time() for s in future} == {time(17)}
    assert {s.local_date.weekday() for s in future} <= {0, 2}


def test_series_edit_page_refuses_a_past_effective_date(client, counselor, track):
    series = series_create(
        actor=None,
        track=track,
        weekdays=["MO"],
        start_time=time(18),
        end_time=time(21),
        starts_on=date(2026, 9, 1),
    )
    client.force_login(counselor)
    response = client.post(
        reverse("scheduling:series_edit", args=[series.pk]),
        {
            "kind": "group",
            "weekdays": ["TU"],
            "start_time": "18:00",
            "end_time": "21:00",
            "starts_on": "2026-09-08",
        },
    )
    assert response.status_code == 422
    assert b"applies from today on" in response.content


def test_outside_counselor_cannot_edit_a_series(client, outside_counselor, track):
    series = series_create(
        actor=None,
        track=track,
        weekdays=["MO"],
        start_time=time(18),
        end_time=time(21),
        starts_on=date(2026, 9, 1),
    )
    client.force_login(outside_counselor)
    assert client.get(reverse("scheduling:series_edit", args=[series.pk])).status_code == 404
    assert client.get(reverse("scheduling:track", args=[track.pk])).status_code == 404


def test_director_sees_every_sites_calendar(client, director, track, other_site):
    client.force_login(director)
    assert client.get(reverse("scheduling:calendar"), {"site": other_site.pk}).status_code == 200
    assert client.get(reverse("scheduling:calendar"), {"track": track.pk}).status_code == 200


def test_my_sessions_lists_only_the_facilitators_sessions_today(
    client, counselor, other_counselor, track, make_session
):
    today = timezone.localdate(timezone.now(), NY)
    mine = make_session(track, today, topic="Mine today")
    make_session(track, today, time(9), time(12), facilitator=other_counselor, topic="Theirs")
    make_session(track, today + timedelta(days=1), topic="Mine tomorrow")
    client.force_login(counselor)
    html = client.get(reverse("scheduling:my_sessions")).content.decode()
    assert reverse("scheduling:attendance", args=[mine.pk]) in html
    assert html.count('class="list-group-item list-group-item-action') == 1


def test_track_page_shows_roster_against_capacity(client, counselor, track, make_patient):
    make_patient(track=track)
    make_patient(track=track)
    client.force_login(counselor)
    html = client.get(reverse("scheduling:track", args=[track.pk])).content.decode()
    assert "2 on the roster today" in html and "capacity 12" in html


def test_arrival_outside_the_session_is_a_field_error(
    client, counselor, held_session, make_patient, track
):
    p = make_patient(track=track)
    before = (held_session.starts_at - timedelta(hours=2)).astimezone(NY)
    client.force_login(counselor)
    response = _post_row(client, held_session, p, status="late", arrived=before.strftime("%H:%M"))
    assert response.status_code == 422
    assert b"must be within the session" in response.content
    assert not Attendance.objects.exists()
