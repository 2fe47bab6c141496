from datetime import date, datetime, time, timedelta

import pytest
from django.urls import reverse

from patients.models import Patient
from recovery.alerts import meeting_shortfall, overdue_homework, waiting_for_review
from recovery.models import HomeworkSubmission
from recovery.services.homework import homework_review, homework_submit
from recovery.services.meetings import meeting_requirement_set
from tests.alerts.queue import swept as alerts_for
from tests.conftest import SCENARIO_NOW

from .conftest import NY, WEEK, queries

pytestmark = [pytest.mark.frozen(SCENARIO_NOW), pytest.mark.django_db]
TUE, WED, FRI, SAT = (WEEK + timedelta(days=d) for d in (1, 2, 4, 5))


def at(day: date, hour: int = 19, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=NY)


def _mine(counselor):
    return Patient.objects.filter(primary_counselor=counselor)


def shortfall(counselor, today):
    """This week's shortfall alerts (the week before is tested on its own)."""
    return [a for a in meeting_shortfall(_mine(counselor), today) if a.kind == "meeting_shortfall"]


# --- overdue homework -------------------------------------------------------------


def test_homework_is_overdue_from_the_day_after_its_due_date(counselor, patient, assign):
    assign(patient, TUE)
    assert overdue_homework(_mine(counselor), TUE) == []
    [alert] = overdue_homework(_mine(counselor), WED)
    assert alert.kind == "homework_overdue"
    assert alert.message == "Homework “Relapse plan” overdue since Tue Nov 10 (1 day)"
    assert alert.action_url == reverse("recovery:patient", args=[patient.pk]) + "#staff-homework"


def test_overdue_homework_disappears_once_submitted(counselor, patient, assign):
    hw = assign(patient, TUE)
    homework_submit(actor=counselor, assignment=hw, text="My plan", now=at(WED))
    assert overdue_homework(_mine(counselor), FRI) == []


def test_returned_homework_overdue_again_is_a_new_occurrence(counselor, patient, assign):
    hw = assign(patient, TUE)
    [first] = overdue_homework(_mine(counselor), WED)
    homework_submit(actor=counselor, assignment=hw, text="My plan", now=at(WED))
    homework_review(
        actor=counselor,
        submission=HomeworkSubmission.objects.get(),
        accept=False,
        comment="Add your triggers.",
        now=at(WED, 20),
    )
    [again] = overdue_homework(_mine(counselor), FRI)
    assert "returned for changes" in again.message
    assert again.key != first.key


def test_overdue_homework_is_not_in_another_counselors_queue(
    counselor, other_counselor, outside_counselor, patient, assign
):
    assign(patient, date(2026, 9, 10))  # long overdue
    kinds = {u: [a.kind for a in alerts_for(u)] for u in (counselor, other_counselor)}
    assert "homework_overdue" in kinds[counselor]
    assert "homework_overdue" not in kinds[other_counselor]
    assert "homework_overdue" not in [a.kind for a in alerts_for(outside_counselor)]


# --- meeting shortfall ------------------------------------------------------------


def test_no_shortfall_alert_midweek_while_the_week_can_still_be_met(
    counselor, patient, requirement
):
    assert shortfall(counselor, WED) == []


def test_shortfall_from_friday(counselor, patient, requirement, log_meeting):
    log_meeting(patient, at(WEEK))
    [alert] = shortfall(counselor, FRI)
    assert alert.kind == "meeting_shortfall"
    assert alert.key == f"meetings:{patient.pk}:{WEEK.isoformat()}"
    assert alert.message == (
        "Meetings this week: 1 verified of 3 required; 2 more needed by Sunday"
    )
    assert alert.action_url == reverse("recovery:patient", args=[patient.pk])


def test_shortfall_before_friday_once_the_week_cannot_be_met(
    counselor, director, site, patient, log_meeting
):
    meeting_requirement_set(actor=director, site=site, meetings_per_week=7, fellowships=[])
    # Tuesday with nothing logged: 7 needed, 6 days left.
    [alert] = shortfall(counselor, TUE)
    assert "7 more needed" in alert.message


def test_meetings_waiting_for_verification_count_towards_the_week(
    counselor, patient, requirement, log_meeting
):
    log_meeting(patient, at(WEEK))
    log_meeting(patient, at(TUE), verify=False)
    log_meeting(patient, at(WED), verify=False)
    assert shortfall(counselor, SAT) == []


def test_shortfall_disappears_when_the_meetings_are_verified(
    counselor, patient, requirement, log_meeting
):
    log_meeting(patient, at(WEEK))
    log_meeting(patient, at(TUE))
    assert len(shortfall(counselor, FRI)) == 1
    log_meeting(patient, at(FRI, 8))
    assert shortfall(counselor, FRI) == []


def test_week_is_counted_in_the_site_time_zone(counselor, patient, requirement, log_meeting):
    # Sunday 23:30 in New York is already Monday in UTC: it belongs to the week before.
    log_meeting(patient, at(WEEK - timedelta(days=1), 23, 30))
    log_meeting(patient, at(WEEK, 0, 30))
    log_meeting(patient, at(TUE))
    [alert] = shortfall(counselor, FRI)
    assert "2 verified of 3 required" in alert.message


def test_last_week_ended_short(counselor, patient, requirement, log_meeting):
    log_meeting(patient, at(TUE))
    next_monday = WEEK + timedelta(days=7)
    [alert] = meeting_shortfall(_mine(counselor), next_monday)
    assert alert.kind == "meeting_short_last_week"
    assert alert.message == "Meeting shortfall in the week of Mon Nov 9: 1 verified of 3 required"


def test_no_requirement_no_shortfall(counselor, patient):
    assert meeting_shortfall(_mine(counselor), SAT) == []


# --- waiting for review -----------------------------------------------------------


def test_work_waiting_for_review_is_a_count_per_patient(counselor, patient, assign, log_meeting):
    hw = assign(patient, FRI)
    homework_submit(actor=counselor, assignment=hw, text="Plan", now=at(WED))
    log_meeting(patient, at(TUE), verify=False)
    log_meeting(patient, at(WED), verify=False)
    [alert] = waiting_for_review(_mine(counselor), FRI)
    assert alert.severity == "info"
    assert alert.message == "1 homework submission and 2 meetings waiting for review"
    assert alert.action_url == reverse("recovery:queue")


def test_reviewed_work_disappears(counselor, patient, assign):
    hw = assign(patient, FRI)
    homework_submit(actor=counselor, assignment=hw, text="Plan", now=at(WED))
    homework_review(
        actor=counselor,
        submission=HomeworkSubmission.objects.get(),
        accept=True,
        now=at(WED, 21),
    )
    assert waiting_for_review(_mine(counselor), FRI) == []


# --- fixed query counts -----------------------------------------------------------


def test_recovery_rules_run_a_fixed_number_of_queries(
    counselor, make_patient, requirement, assign, log_meeting
):
    def seed(p):
        hw = assign(p, TUE)
        assign(p, WEEK - timedelta(days=3))
        homework_submit(actor=counselor, assignment=hw, text="Plan", now=at(TUE, 8))
        log_meeting(p, at(WEEK))
        log_meeting(p, at(TUE), verify=False)

    seed(make_patient(last="Small"))
    counts = {}
    for rule in (overdue_homework, meeting_shortfall, waiting_for_review):
        counts[rule.__name__] = queries(lambda r=rule: r(_mine(counselor), SAT))
    for n in range(4):
        seed(make_patient(last=f"Big{n}"))
    assert len(overdue_homework(_mine(counselor), SAT)) == 5
    # This week and the week before for each.
    assert len(meeting_shortfall(_mine(counselor), SAT)) == 10
    assert len(waiting_for_review(_mine(counselor), SAT)) == 5
    for rule in (overdue_homework, meeting_shortfall, waiting_for_review):
        assert queries(lambda r=rule: r(_mine(counselor), SAT)) == counts[rule.__name__]
    assert counts == {"overdue_homework": 1, "meeting_shortfall": 4, "waiting_for_review": 3}


def test_patient_on_hold_is_not_chased_for_meetings_or_homework(
    counselor, frontdesk, patient, requirement, assign
):
    from patients.selectors import current_enrollment
    from patients.services.enrollment import enrollment_hold

    assign(patient, TUE)
    enrollment_hold(
        actor=frontdesk,
        enrollment=current_enrollment(patient),
        effective_date=WEEK,
        reason="Hospital stay",
        now=at(WEEK, 9),
    )
    assert meeting_shortfall(_mine(counselor), SAT) == []
    assert overdue_homework(_mine(counselor), SAT) == []
