"""Homework: assignment, the review cycle with every round kept, overdue, groups."""

from datetime import date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from core.models import AuditEvent
from patients.services.enrollment import enrollment_change_track
from recovery.models import (
    HomeworkAssignment,
    HomeworkStatus,
    HomeworkSubmission,
    ReviewOutcome,
)
from recovery.services.homework import (
    homework_assign,
    homework_assign_session,
    homework_assign_track,
    homework_review,
    homework_submit,
)
from tests.conftest import SCENARIO_NOW
from tests.recovery.conftest import NOW, NY, pdf_bytes, upload

# Written for the suite's scenario instant (tests/conftest.py).
pytestmark = pytest.mark.frozen(SCENARIO_NOW)

DUE = date(2026, 11, 27)


@pytest.fixture
def assignment(patient, counselor, template):
    return homework_assign(
        actor=counselor, patient=patient, template=template, due_date=DUE, now=NOW
    )


def _submit_url(a):
    return reverse("recovery:portal_homework_submit", args=[a.pk])


def _review_url(s):
    return reverse("recovery:homework_review", args=[s.pk])


def test_assignment_copies_title_and_instructions_from_the_template(assignment, template):
    template.instructions = "Changed later"
    template.save()
    assignment.refresh_from_db()
    assert assignment.instructions == "Write about powerlessness."
    assert assignment.status == HomeworkStatus.ASSIGNED


def test_counselor_assigns_homework_from_the_patient_page(client, counselor, patient, template):
    client.force_login(counselor)
    response = client.post(
        reverse("recovery:patient", args=[patient.pk]),
        {"action": "assign", "template": template.pk, "due_date": "2026-12-31"},
    )
    assert response.status_code == 302
    assert HomeworkAssignment.objects.get().patient == patient


def test_due_date_in_the_past_is_refused(counselor, patient, template):
    with pytest.raises(ValidationError, match="in the past"):
        homework_assign(
            actor=counselor, patient=patient, template=template, due_date=date(2026, 11, 1), now=NOW
        )
    assert not HomeworkAssignment.objects.exists()


def test_review_cycle_keeps_every_round(client, counselor, patient, assignment):
    # Round 1: the patient submits; the counselor returns it with a comment.
    client.force_login(patient.user)
    client.post(_submit_url(assignment), {"text": "My first try"})
    first = HomeworkSubmission.objects.get()
    client.force_login(counselor)
    client.post(_review_url(first), {"decision": "return", "comment": "Add two examples."})
    assignment.refresh_from_db()
    assert assignment.status == HomeworkStatus.RETURNED
    # The patient sees the comment and resubmits.
    client.force_login(patient.user)
    page = client.get(reverse("recovery:portal_homework")).content.decode()
    assert "Add two examples." in page
    client.post(_submit_url(assignment), {"text": "With two examples"})
    assignment.refresh_from_db()
    assert assignment.status == HomeworkStatus.SUBMITTED
    second = HomeworkSubmission.objects.get(round=2)
    # Round 2 accepted.
    client.force_login(counselor)
    client.post(_review_url(second), {"decision": "accept", "comment": "Well done"})
    assignment.refresh_from_db()
    assert assignment.status == HomeworkStatus.ACCEPTED
    rounds = list(assignment.submissions.order_by("round").values_list("round", "text", "outcome"))
    assert rounds == [
        (1, "My first try", ReviewOutcome.RETURNED),
        (2, "With two examples", ReviewOutcome.ACCEPTED),
    ]
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"recovery.homework_submit", "recovery.homework_return", "recovery.homework_accept"} <= (
        actions
    )


def test_returning_without_a_comment_is_refused(client, counselor, patient, assignment):
    submission = homework_submit(actor=patient.user, assignment=assignment, text="Done", now=NOW)
    client.force_login(counselor)
    response = client.post(
        _review_url(submission), {"decision": "return", "comment": ""}, follow=True
    )
    assert "Say what the patient should change" in response.content.decode()
    submission.refresh_from_db()
    assert submission.outcome == "" and submission.reviewed_at is None


def test_submitting_homework_already_accepted_is_refused(client, counselor, patient, assignment):
    submission = homework_submit(actor=patient.user, assignment=assignment, text="Done", now=NOW)
    homework_review(actor=counselor, submission=submission, accept=True, now=NOW)
    client.force_login(patient.user)
    response = client.post(_submit_url(assignment), {"text": "One more time"})
    assert response.status_code == 200
    assert "already accepted" in response.content.decode()
    assert HomeworkSubmission.objects.count() == 1


def test_resubmitting_while_waiting_for_review_is_refused(patient, assignment):
    homework_submit(actor=patient.user, assignment=assignment, text="Done", now=NOW)
    with pytest.raises(ValidationError, match="waiting for your counselor"):
        homework_submit(actor=patient.user, assignment=assignment, text="Again", now=NOW)
    assert HomeworkSubmission.objects.count() == 1


def test_empty_submission_is_refused(client, patient, assignment):
    client.force_login(patient.user)
    response = client.post(_submit_url(assignment), {"text": "  "})
    assert "Write your answer or attach a file" in response.content.decode()
    assert not HomeworkSubmission.objects.exists()


def test_patient_submits_a_file(client, patient, assignment):
    client.force_login(patient.user)
    client.post(_submit_url(assignment), {"text": "", "files": [upload(pdf_bytes(), "plan.pdf")]})
    submission = HomeworkSubmission.objects.get()
    (stored,) = submission.files.all()
    assert (stored.original_name, stored.content_type, stored.patient) == (
        "plan.pdf",
        "application/pdf",
        patient,
    )


def test_patient_cannot_submit_another_patients_homework(client, other_patient, assignment):
    client.force_login(other_patient.user)
    response = client.post(_submit_url(assignment), {"text": "Not mine"})
    assert response.status_code == 404
    assert not HomeworkSubmission.objects.exists()


def test_patient_cannot_review_their_own_submission(client, patient, assignment):
    submission = homework_submit(actor=patient.user, assignment=assignment, text="Done", now=NOW)
    client.force_login(patient.user)
    response = client.post(_review_url(submission), {"decision": "accept"})
    assert response.status_code == 404
    submission.refresh_from_db()
    assert submission.outcome == ""


def test_counselor_of_another_site_cannot_review(client, outside_counselor, patient, assignment):
    submission = homework_submit(actor=patient.user, assignment=assignment, text="Done", now=NOW)
    client.force_login(outside_counselor)
    response = client.post(_review_url(submission), {"decision": "accept"})
    assert response.status_code == 404
    submission.refresh_from_db()
    assert submission.outcome == ""


@pytest.mark.parametrize(
    ("now_utc_hour", "expected"),
    [
        # Due Fri Nov 27. Sat Nov 28 03:00 UTC is still Fri 22:00 in New York.
        (3, HomeworkStatus.ASSIGNED),
        # Sat Nov 28 05:00 UTC is Sat 00:00 in New York: overdue.
        (5, HomeworkStatus.OVERDUE),
    ],
)
def test_overdue_is_derived_from_the_due_date_in_the_site_zone(assignment, now_utc_hour, expected):
    from datetime import UTC

    from core.clock import site_today

    now = datetime(2026, 11, 28, now_utc_hour, tzinfo=UTC)
    assert assignment.status_on(site_today(assignment.patient.site, now)) == expected


def test_submitted_homework_is_not_overdue(patient, assignment):
    homework_submit(actor=patient.user, assignment=assignment, text="x", now=NOW)
    assignment.refresh_from_db()
    assert assignment.status_on(DUE + timedelta(days=3)) == HomeworkStatus.SUBMITTED


def test_returned_homework_past_due_is_overdue(patient, counselor, assignment):
    s = homework_submit(actor=patient.user, assignment=assignment, text="x", now=NOW)
    homework_review(actor=counselor, submission=s, accept=False, comment="More", now=NOW)
    assignment.refresh_from_db()
    assert assignment.status_on(DUE + timedelta(days=1)) == HomeworkStatus.OVERDUE


def test_assign_to_a_track_roster_on_a_date(
    counselor, frontdesk, make_patient, track, day_track, template
):
    on_track = make_patient(track=track, admitted=date(2026, 9, 1))
    moved_away = make_patient(track=track, admitted=date(2026, 9, 1))
    enrollment_change_track(
        actor=frontdesk,
        enrollment=moved_away.enrollments.get(),
        track=day_track,
        effective_date=date(2026, 11, 10),
        reason="Started a day job",
        now=NOW,
    )
    joins_later = make_patient(track=track, admitted=date(2026, 11, 20))
    other_track = make_patient(track=day_track, admitted=date(2026, 9, 1))
    created, skipped = homework_assign_track(
        actor=counselor,
        track=track,
        on=date(2026, 11, 18),
        template=template,
        due_date=DUE,
        now=NOW,
    )
    assigned = set(HomeworkAssignment.objects.values_list("patient_id", flat=True))
    assert assigned == {on_track.pk}
    assert (len(created), skipped) == (1, 0)
    assert moved_away.pk not in assigned and joins_later.pk not in assigned
    assert other_track.pk not in assigned
    assert "IOP Evening roster" in HomeworkAssignment.objects.get().group_label


def test_assigning_a_roster_twice_skips_those_who_have_it(counselor, make_patient, track, template):
    make_patient(track=track)
    make_patient(track=track)
    homework_assign_track(
        actor=counselor,
        track=track,
        on=date(2026, 11, 18),
        template=template,
        due_date=DUE,
        now=NOW,
    )
    created, skipped = homework_assign_track(
        actor=counselor,
        track=track,
        on=date(2026, 11, 18),
        template=template,
        due_date=DUE,
        now=NOW,
    )
    assert (len(created), skipped) == (0, 2)
    assert HomeworkAssignment.objects.count() == 2


def test_group_assignment_from_the_library_page(client, counselor, make_patient, track, template):
    make_patient(track=track)
    make_patient(track=track)
    client.force_login(counselor)
    response = client.post(
        reverse("recovery:library"),
        {
            "action": "group",
            "template": template.pk,
            "track": track.pk,
            "roster_date": "2026-11-18",
            "due_date": "2026-12-31",
        },
    )
    assert response.status_code == 302
    assert HomeworkAssignment.objects.count() == 2


def test_counselor_adds_a_template_with_a_worksheet(client, counselor, site):
    client.force_login(counselor)
    response = client.post(
        reverse("recovery:library"),
        {
            "action": "template",
            "site": site.pk,
            "title": "Decisional balance",
            "instructions": "Pros and cons.",
            "worksheet": upload(pdf_bytes(), "balance.pdf"),
        },
    )
    assert response.status_code == 302
    from recovery.models import HomeworkTemplate

    t = HomeworkTemplate.objects.get(title="Decisional balance")
    assert t.worksheet.content_type == "application/pdf" and t.worksheet.patient is None


def test_assign_to_a_group_sessions_roster(counselor, make_patient, track, day_track, template):
    from scheduling.models import Session

    on_track = [make_patient(track=track), make_patient(track=track)]
    make_patient(track=day_track)
    session = Session.objects.create(
        site=track.site,
        track=track,
        local_date=date(2026, 11, 24),
        starts_at=datetime(2026, 11, 24, 18, tzinfo=NY),
        ends_at=datetime(2026, 11, 24, 21, tzinfo=NY),
        kind="relapse_prevention",
        created_at=NOW,
    )
    created, skipped = homework_assign_session(
        actor=counselor, session=session, template=template, due_date=DUE, now=NOW
    )
    assert (len(created), skipped) == (2, 0)
    assert set(HomeworkAssignment.objects.values_list("patient_id", flat=True)) == {
        p.pk for p in on_track
    }


def test_session_assignment_from_the_library_page(client, counselor, make_patient, track, template):
    from django.utils import timezone

    from scheduling.models import Session

    make_patient(track=track)
    day = timezone.localdate() + timedelta(days=2)
    start = datetime(day.year, day.month, day.day, 18, tzinfo=NY)
    session = Session.objects.create(
        site=track.site,
        track=track,
        local_date=day,
        starts_at=start,
        ends_at=start + timedelta(hours=3),
        kind="group",
        created_at=NOW,
    )
    client.force_login(counselor)
    page = client.get(reverse("recovery:library")).content.decode()
    assert "Assign to a group session" in page
    response = client.post(
        reverse("recovery:library"),
        {
            "action": "session",
            "template": template.pk,
            "session": session.pk,
            "due_date": (day + timedelta(days=7)).isoformat(),
        },
    )
    assert response.status_code == 302
    assert HomeworkAssignment.objects.get().group_label.startswith(session.title)


def test_portal_lists_work_to_do_before_work_done(
    client, counselor, patient, template, second_template
):
    done = homework_assign(
        actor=counselor, patient=patient, template=template, due_date=DUE, now=NOW
    )
    s = homework_submit(actor=patient.user, assignment=done, text="x", now=NOW)
    homework_review(actor=counselor, submission=s, accept=True, now=NOW)
    todo = homework_assign(
        actor=counselor,
        patient=patient,
        template=second_template,
        due_date=DUE + timedelta(days=7),
        now=NOW,
    )
    client.force_login(patient.user)
    listed = client.get(reverse("recovery:portal_homework")).context["homework"]
    assert [h.pk for h in listed] == [todo.pk, done.pk]
