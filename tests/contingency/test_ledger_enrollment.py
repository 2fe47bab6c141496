"""Enrolling a patient on a program and ending the episode."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from contingency.models import CMEnrollment, Program
from contingency.services.ledger import cm_end, cm_enroll
from core.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_an_episode_lasts_the_programs_weeks_by_default(program, patient, counselor, today):
    episode = cm_enroll(actor=counselor, program=program, patient=patient, starts_on=today)
    # 24 weeks, the last day included: 168 days from the first.
    assert episode.ends_on == today + timedelta(days=167)
    assert (episode.status, episode.enrolled_by, episode.enrollment.patient) == (
        "active",
        counselor,
        patient,
    )
    assert AuditEvent.objects.filter(
        action="contingency.enrolled", object_id=str(episode.pk), actor=counselor
    ).exists()


def test_a_second_active_episode_is_refused(program, patient, counselor, today):
    cm_enroll(actor=counselor, program=program, patient=patient, starts_on=today)
    with pytest.raises(ValidationError) as error:
        cm_enroll(
            actor=counselor,
            program=program,
            patient=patient,
            starts_on=today + timedelta(days=200),
        )
    assert "patient" in error.value.message_dict
    assert CMEnrollment.objects.count() == 1


def test_another_sites_program_is_refused(other_site, patient, counselor, today, test_now):
    elsewhere = Program.objects.create(site=other_site, name="West CM", created_at=test_now)
    with pytest.raises(ValidationError) as error:
        cm_enroll(actor=counselor, program=elsewhere, patient=patient, starts_on=today)
    assert "program" in error.value.message_dict


def test_an_end_before_the_start_is_refused(program, patient, counselor, today):
    with pytest.raises(ValidationError) as error:
        cm_enroll(
            actor=counselor,
            program=program,
            patient=patient,
            starts_on=today,
            ends_on=today - timedelta(days=1),
        )
    assert "ends_on" in error.value.message_dict


def test_a_new_episode_overlapping_an_ended_one_is_refused(program, patient, counselor, today):
    first = cm_enroll(
        actor=counselor, program=program, patient=patient, starts_on=today - timedelta(days=30)
    )
    cm_end(actor=counselor, cm_enrollment=first, reason="Restarting")
    with pytest.raises(ValidationError) as error:
        cm_enroll(
            actor=counselor, program=program, patient=patient, starts_on=today - timedelta(days=1)
        )
    assert "starts_on" in error.value.message_dict


def test_ending_an_episode_records_why_and_when(episode, counselor, test_now):
    ended = cm_end(actor=counselor, cm_enrollment=episode, reason="Completed", now=test_now)
    episode.refresh_from_db()
    assert (episode.status, episode.ended_at, episode.end_reason) == (
        "ended",
        test_now,
        "Completed",
    )
    assert ended.pk == episode.pk
    assert AuditEvent.objects.filter(action="contingency.ended", actor=counselor).exists()


def test_ending_needs_a_reason_and_happens_once(episode, counselor):
    with pytest.raises(ValidationError) as error:
        cm_end(actor=counselor, cm_enrollment=episode, reason="  ")
    assert "reason" in error.value.message_dict
    cm_end(actor=counselor, cm_enrollment=episode, reason="Completed")
    with pytest.raises(ValidationError, match="already ended"):
        cm_end(actor=counselor, cm_enrollment=episode, reason="Again")
