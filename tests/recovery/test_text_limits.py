"""Homework text has a length limit: in the form, in the service and in the database."""

from datetime import date

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from core import audit, limits
from core.mend_text import mend_overlong_text
from core.models import AuditEvent
from recovery.models import HomeworkSubmission
from recovery.services.homework import homework_assign, homework_submit
from tests.conftest import SCENARIO_NOW
from tests.recovery.conftest import NOW

pytestmark = pytest.mark.frozen(SCENARIO_NOW)


@pytest.fixture
def assignment(patient, counselor, template):
    return homework_assign(
        actor=counselor, patient=patient, template=template, due_date=date(2026, 11, 27), now=NOW
    )


def test_a_540000_character_answer_is_refused_with_a_form_error(client, patient, assignment):
    client.force_login(patient.user)
    response = client.post(
        reverse("recovery:portal_homework_submit", args=[assignment.pk]), {"text": "x" * 540_000}
    )
    assert response.status_code == 200
    assert "at most 20000 characters" in response.content.decode()
    assert not HomeworkSubmission.objects.exists()


def test_an_answer_at_the_limit_is_saved(client, patient, assignment):
    client.force_login(patient.user)
    client.post(
        reverse("recovery:portal_homework_submit", args=[assignment.pk]),
        {"text": "y" * limits.HOMEWORK_ANSWER},
    )
    assert len(HomeworkSubmission.objects.get().text) == limits.HOMEWORK_ANSWER


def test_a_browser_newline_counts_as_one_character(client, patient, assignment):
    # The browser's maxlength counts a line break once but posts it as CR LF.
    text = ("a" * 9 + "\r\n") * (limits.HOMEWORK_ANSWER // 10)
    client.force_login(patient.user)
    client.post(reverse("recovery:portal_homework_submit", args=[assignment.pk]), {"text": text})
    saved = HomeworkSubmission.objects.get().text
    assert "\r" not in saved and len(saved) <= limits.HOMEWORK_ANSWER


def test_the_service_refuses_an_over_long_answer(patient, assignment):
    with pytest.raises(ValidationError, match="at most 20000 characters"):
        homework_submit(actor=patient.user, assignment=assignment, text="x" * 20_001, now=NOW)
    assert not HomeworkSubmission.objects.exists()


def test_the_database_refuses_an_over_long_answer_written_past_the_form(patient, assignment):
    submission = homework_submit(actor=patient.user, assignment=assignment, text="ok", now=NOW)
    with pytest.raises(IntegrityError), transaction.atomic():
        HomeworkSubmission.objects.filter(pk=submission.pk).update(text="x" * 20_001)
    submission.refresh_from_db()
    assert submission.text == "ok"


def test_the_review_queue_shows_a_preview_of_a_long_answer_with_a_link(
    client, counselor, patient, assignment
):
    homework_submit(
        actor=patient.user, assignment=assignment, text="w" * limits.HOMEWORK_ANSWER, now=NOW
    )
    client.force_login(counselor)
    page = client.get(reverse("recovery:queue")).content.decode()
    assert "w" * (limits.LIST_PREVIEW + 1) not in page
    assert "w" * (limits.LIST_PREVIEW // 2) in page
    assert "Read all 20,000 characters" in page
    assert reverse("recovery:patient", args=[patient.pk]) in page


def test_the_submit_form_has_a_counter_and_maxlength(client, patient, assignment):
    client.force_login(patient.user)
    page = client.get(reverse("recovery:portal_homework")).content.decode()
    assert 'maxlength="20000"' in page
    assert 'data-counter-for="' in page and 'aria-live="polite"' in page


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="drops a constraint (PostgreSQL)")
def test_mending_an_over_long_stored_row_keeps_the_original_in_the_audit_trail(patient, assignment):
    submission = homework_submit(actor=patient.user, assignment=assignment, text="ok", now=NOW)
    # A row stored before the limit existed (the constraint goes for this test only: the
    # test's transaction is rolled back).
    original = "the whole answer " * 40_000
    with connection.cursor() as cursor:
        # The rows just written wait for their deferred foreign-key checks, which an
        # ALTER TABLE in the same transaction does not allow: run them now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            "ALTER TABLE recovery_homeworksubmission "
            "DROP CONSTRAINT recovery_homeworksubmission_text_max_len"
        )
    HomeworkSubmission.objects.filter(pk=submission.pk).update(text=original)

    changed = mend_overlong_text(apps, "recovery")

    submission.refresh_from_db()
    event = AuditEvent.objects.get(action="text.truncated")
    assert changed == 1
    assert len(submission.text) <= limits.HOMEWORK_ANSWER
    assert submission.text.endswith(f"[truncated: full text kept in audit #{event.pk}]")
    assert submission.text.startswith("the whole answer ")
    assert event.detail["original"] == original
    assert event.detail["field"] == "text"
    assert event.object_type == "recovery.HomeworkSubmission"
    assert event.object_id == str(submission.pk)
    assert event.patient_id == patient.pk
    assert list(audit.verify_chain()) == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="migrates back and forth")
def test_the_migration_mends_a_row_stored_before_the_limit(patient, assignment):
    from django.db.migrations.executor import MigrationExecutor

    submission = homework_submit(actor=patient.user, assignment=assignment, text="ok", now=NOW)
    original = "before the limits " * 2_000  # 36,000 characters
    before, latest = ("recovery", "0005_mend_out_of_range_dates"), ("recovery", "0006_text_limits")
    MigrationExecutor(connection).migrate([before])
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE recovery_homeworksubmission SET text = %s WHERE id = %s",
                [original, submission.pk],
            )
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate([latest])

    submission.refresh_from_db()
    event = AuditEvent.objects.get(action="text.truncated")
    assert len(submission.text) == limits.HOMEWORK_ANSWER
    assert submission.text.endswith(f"[truncated: full text kept in audit #{event.pk}]")
    assert event.detail["original"] == original
    with pytest.raises(IntegrityError):
        HomeworkSubmission.objects.filter(pk=submission.pk).update(text=original)
