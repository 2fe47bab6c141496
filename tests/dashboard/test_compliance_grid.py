import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse

from core.models import AuditEvent
from recovery.models import HomeworkSubmission
from recovery.services.homework import homework_submit
from tests.conftest import SCENARIO_NOW

from .conftest import NY, WED, WEEK, queries

pytestmark = [pytest.mark.frozen(SCENARIO_NOW), pytest.mark.django_db]
URL = reverse("dashboard:compliance")
Q = f"?week={WEEK.isoformat()}"


def _rows(response):
    return response.context["rows"]


def test_grid_shows_hours_tests_meetings_and_homework(client, counselor, full_week):
    robin, sam = full_week
    client.force_login(counselor)
    response = client.get(URL + Q)
    assert response.status_code == 200
    by_name = {r.patient.pk: r for r in _rows(response)}
    r = by_name[robin.pk]
    assert (r.hours.attended_hours, r.hours.minimum_hours, r.hours.status) == ("9.0", "9.0", "met")
    assert [c.label for c in r.tests] == ["Negative"]
    assert (r.meetings.verified, r.meetings.required, r.meetings.status) == (2, 3, "short")
    assert [(h.assignment.title, h.label) for h in r.homework] == [
        ("Triggers", "Late"),
        ("Gratitude list", "On time"),
        ("Step one", "Missing"),
    ]
    page = response.content.decode()
    assert "9.0 of 9.0 h" in page and "Wed Nov 11: Negative" in page
    assert "Wed Nov 11: Positive" in page and "3.0 of 9.0 h" in page
    assert "2 of 3 verified" in page and "Gratitude list: On time" in page
    # Colour is never the only signal: the symbol and the word travel with it.
    assert "✗</span> Wed Nov 11: Positive" in page


def test_week_parameter_snaps_to_its_monday(client, counselor, full_week):
    client.force_login(counselor)
    response = client.get(URL + "?week=2026-11-12")
    assert response.context["monday"] == WEEK
    assert "Week of Mon Nov 9" in response.content.decode()


def test_counselor_sees_only_their_own_caseload(
    client, counselor, other_counselor, make_patient, full_week
):
    theirs = make_patient(first="Other", last="Caseload", counselor_user=other_counselor)
    client.force_login(counselor)
    names = [r.patient.pk for r in _rows(client.get(URL + Q))]
    assert theirs.pk not in names and len(names) == 2
    client.force_login(other_counselor)
    assert [r.patient.pk for r in _rows(client.get(URL + Q))] == [theirs.pk]


def test_staff_of_another_site_see_none_of_these_patients(client, outside_counselor, full_week):
    client.force_login(outside_counselor)
    response = client.get(URL + Q)
    assert response.status_code == 200 and _rows(response) == []
    assert "Robin" not in response.content.decode()


def test_director_picks_a_site(client, director, other_site, make_patient, full_week):
    west = make_patient(first="Wes", last="Coast", at_site=other_site)
    client.force_login(director)
    here = [r.patient.pk for r in _rows(client.get(URL + Q))]
    assert set(here) == {p.pk for p in full_week}
    there = [r.patient.pk for r in _rows(client.get(URL + Q + f"&site={other_site.pk}"))]
    assert there == [west.pk]


def test_director_site_outside_the_organisation_is_404(client, director, full_week):
    client.force_login(director)
    assert client.get(URL + Q + "&site=999999").status_code == 404
    assert client.get(URL + Q + "&site=abc").status_code == 404


def test_patient_gets_404_and_other_roles_403(client, patient, nurse):
    client.force_login(patient.user)
    assert client.get(URL).status_code == 404
    client.force_login(nurse)
    assert client.get(URL).status_code == 403


def test_sort_by_hours_both_ways(client, counselor, full_week):
    robin, sam = full_week
    client.force_login(counselor)
    assert [r.patient.pk for r in _rows(client.get(URL + Q))] == [sam.pk, robin.pk]  # by name
    response = client.get(URL + Q + "&sort=hours")
    assert [r.patient.pk for r in _rows(response)] == [sam.pk, robin.pk]
    page = response.content.decode()
    assert 'aria-sort="ascending"' in page and "sort=-hours" in page
    assert [r.patient.pk for r in _rows(client.get(URL + Q + "&sort=-hours"))] == [
        robin.pk,
        sam.pk,
    ]
    assert [r.patient.pk for r in _rows(client.get(URL + Q + "&sort=-name"))] == [
        robin.pk,
        sam.pk,
    ]
    assert [r.patient.pk for r in _rows(client.get(URL + Q + "&sort=tests"))] == [
        sam.pk,
        robin.pk,
    ]


def test_unknown_sort_falls_back_to_name(client, counselor, full_week):
    client.force_login(counselor)
    response = client.get(URL + Q + "&sort=drop table")
    assert response.status_code == 200 and response.context["sort"] == "name"


def test_csv_export_is_audited(client, counselor, full_week):
    robin, _ = full_week
    client.force_login(counselor)
    response = client.get(URL + Q + "&format=csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")
    assert response["Content-Disposition"].startswith('attachment; filename="stepwise-compliance-')
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    mine = next(r for r in rows if r["MRN"] == robin.mrn)
    assert mine["Attended hours"] == "9.0" and mine["Drug tests"] == "2026-11-11 Negative"
    assert (mine["Meetings verified"], mine["Meetings required"]) == ("2", "3")
    assert (mine["Homework on time"], mine["Homework late"], mine["Homework missing"]) == (
        "1",
        "1",
        "1",
    )
    event = AuditEvent.objects.get(action="compliance.exported")
    assert event.actor == counselor and event.detail["rows"] == 2
    assert "Robin" not in str(event.detail)


def test_page_has_print_and_export_controls(client, counselor, full_week):
    client.force_login(counselor)
    page = client.get(URL + Q).content.decode()
    assert "data-print" in page and "no-print" in page and "format=csv" in page
    assert "js/dashboard.js" in page


def test_grid_runs_a_fixed_number_of_queries(
    client,
    counselor,
    make_patient,
    track,
    week_sessions,
    attend,
    drug_test,
    requirement,
    log_meeting,
    assign,
):
    from datetime import datetime, time

    def seed(p):
        attend(week_sessions[0], p)
        drug_test(p, results={"cocaine": "negative"})
        log_meeting(p, datetime.combine(WEEK, time(12), tzinfo=NY))
        hw = assign(p, WEEK + timedelta(days=1))
        homework_submit(actor=counselor, assignment=hw, text="x", now=WED)

    seed(make_patient(last="Small", track=track))
    client.force_login(counselor)

    def load():
        assert len(_rows(client.get(URL + Q))) >= 1

    load()  # the first request of a session also reads things it then caches
    small = queries(load)
    for n in range(4):
        seed(make_patient(last=f"Big{n}", track=track))
    assert HomeworkSubmission.objects.count() == 5
    assert queries(load) == small
    assert small <= 20, small


def test_a_past_week_shows_patients_discharged_since(client, counselor, frontdesk, full_week):
    from datetime import date

    from patients.selectors import current_enrollment
    from patients.services.enrollment import enrollment_discharge

    robin, sam = full_week
    enrollment_discharge(
        actor=frontdesk,
        enrollment=current_enrollment(sam),
        discharge_date=date(2026, 11, 13),
        discharge_type="completed",
        aftercare_plan="Weekly outpatient group.",
    )
    client.force_login(counselor)
    assert {r.patient.pk for r in _rows(client.get(URL + Q))} == {robin.pk, sam.pk}
    later = f"?week={(WEEK + timedelta(days=7)).isoformat()}"
    assert [r.patient.pk for r in _rows(client.get(URL + later))] == [robin.pk]


def test_homework_due_later_in_the_current_week_is_not_due_yet(full_week):
    from dashboard.compliance import compliance_grid

    robin, _ = full_week
    robin = type(robin).objects.select_related("site").get(pk=robin.pk)
    [row] = compliance_grid([robin], WEEK, now=WED)
    assert [h.label for h in row.homework] == ["Late", "On time", "Not due yet"]
    assert row.meetings.status == "in_progress"
    assert row.hours.status == "met"


@pytest.mark.parametrize("week", ["0001-01-01", "9999-12-31", "2026-13-40", "soon"])
def test_odd_week_parameters_show_this_week(client, counselor, week):
    client.force_login(counselor)
    response = client.get(URL + f"?week={week}")
    assert response.status_code == 200 and response.context["is_this_week"]
