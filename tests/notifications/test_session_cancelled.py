"""A cancelled session is announced to everyone who was expected at it: one notice per
rostered patient (or the individual session's patient) and channel, due at the
cancellation, for sessions not yet started, once however often it is re-planned; a
holiday added later announces every session it cancels. The text names no treatment
and shows the session's time on the site's clock."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from core.clock import local_datetime
from notifications import messages, outbox, planning, privacy, sending
from notifications.models import (
    PATIENT_OPTIONAL_KINDS,
    Channel,
    Kind,
    Notification,
    NotificationPreference,
    Status,
)
from notifications.sources import sessions
from scheduling.models import Holiday, Session, SessionStatus
from scheduling.services.bookings import session_cancel
from scheduling.services.site_holidays import holiday_add

pytestmark = pytest.mark.django_db

# Words that would tell a reader of a lock screen what the appointment is for (beyond
# privacy.DENYLIST, which the sender enforces anyway).
TREATMENT_WORDS = ("group", "therapy", "counseling", "counselling", "clinic", "program")


@pytest.fixture
def inline_tasks(monkeypatch):
    """Planning tasks run in-process when the write commits (instead of on the broker)."""
    from notifications import receivers, tasks

    published = []

    def run(name, *args):
        published.append((name, *args))
        getattr(tasks, name)(*args)

    monkeypatch.setattr(receivers, "_publish", run)
    return published


def prefer(patient, channel, **extra):
    if channel == Channel.EMAIL:
        patient.email = f"{patient.legal_first_name.lower()}@example.org"
        patient.save(update_fields=["email"])
    NotificationPreference.objects.update_or_create(
        user=patient.user,
        defaults={
            "channel": channel,
            "quiet_start": extra.pop("quiet_start", None),
            "quiet_end": extra.pop("quiet_end", None),
            "updated_at": timezone.now(),
            **extra,
        },
    )
    return patient


@pytest.fixture
def ada(make_patient, track):
    return prefer(make_patient(first="Ada", track=track, portal=True), Channel.EMAIL)


@pytest.fixture
def bo(make_patient, track):
    return prefer(make_patient(first="Bo", track=track, portal=True), Channel.IN_APP)


def group_session(track, day, start=time(18), **extra):
    starts = local_datetime(day, start, track.site.tz)
    return Session.objects.create(
        site=track.site,
        track=track,
        local_date=day,
        starts_at=starts,
        ends_at=starts + timedelta(hours=3),
        kind="relapse_prevention",
        topic="Relapse prevention",
        created_at=starts - timedelta(days=30),
        **extra,
    )


def cancel(session, actor, now, reason="Facilitator ill"):
    return session_cancel(actor=actor, session=session, reason=reason, now=now)


def notices(session, **filters):
    return Notification.objects.filter(
        kind=Kind.SESSION_CANCELLED, object_type=sessions.SESSION, object_id=session.pk
    ).filter(**filters)


def channels_by_patient(session):
    found: dict[int, set[str]] = {}
    for row in notices(session):
        found.setdefault(row.patient_id, set()).add(row.channel)
    return found


def free_day(site, first):
    """The first day from ``first`` on that is not already one of the site's holidays."""
    day = first
    while Holiday.objects.filter(site=site, date=day).exists():
        day += timedelta(days=1)
    return day


# --- planning ----------------------------------------------------------------------


@pytest.mark.date_sensitive
def test_cancelling_a_future_session_queues_one_notice_per_rostered_patient(
    ada, bo, track, counselor, test_now, today
):
    session = group_session(track, today + timedelta(days=2))
    cancel(session, counselor, test_now)
    sessions.plan_session_cancellations([session.pk], now=test_now)

    # Everyone on the roster, on the portal and on the outside channel they chose.
    assert channels_by_patient(session) == {
        ada.pk: {Channel.IN_APP, Channel.EMAIL},
        bo.pk: {Channel.IN_APP},
    }
    for row in notices(session):
        assert row.status == Status.PENDING
        assert row.recipient_id == row.patient.user_id
        # Due at the cancellation: the next tick sends it.
        assert abs(row.due_at - test_now) < timedelta(minutes=1)
        assert row.deliver_after == row.due_at
        assert datetime.fromisoformat(row.payload["at"]) == session.starts_at
    due = outbox.notifications_dispatch_due(now=test_now + timedelta(minutes=1))
    assert set(notices(session).values_list("pk", flat=True)) <= set(due)


@pytest.mark.date_sensitive
def test_an_individual_session_tells_its_patient(ada, bo, counselor, site, test_now, today):
    starts = local_datetime(today + timedelta(days=3), time(10), site.tz)
    session = Session.objects.create(
        site=site,
        patient=bo,
        local_date=today + timedelta(days=3),
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
        kind="individual",
        capacity=1,
        created_at=test_now,
    )
    cancel(session, counselor, test_now)
    sessions.plan_session_cancellations([session.pk], now=test_now)
    assert channels_by_patient(session) == {bo.pk: {Channel.IN_APP}}


@pytest.mark.date_sensitive
def test_a_session_already_started_or_held_is_not_announced(ada, bo, track, counselor, test_now):
    under_way = group_session(
        track, (test_now - timedelta(hours=1)).astimezone(track.site.tz).date()
    )
    Session.objects.filter(pk=under_way.pk).update(
        starts_at=test_now - timedelta(hours=1), ends_at=test_now + timedelta(hours=2)
    )
    held = group_session(track, (test_now - timedelta(days=2)).astimezone(track.site.tz).date())
    for session in (under_way, held):
        cancel(session, counselor, test_now)
    sessions.plan_session_cancellations([under_way.pk, held.pk], now=test_now)
    planning.replan_all(now=test_now)
    assert not Notification.objects.filter(kind=Kind.SESSION_CANCELLED).exists()


@pytest.mark.date_sensitive
def test_a_notice_still_pending_when_the_session_starts_is_withdrawn(
    ada, track, counselor, test_now, today
):
    session = group_session(track, today + timedelta(days=1))
    cancel(session, counselor, test_now)
    sessions.plan_session_cancellations([session.pk], now=test_now)
    later = session.starts_at + timedelta(minutes=5)
    sessions.plan_session_cancellations([session.pk], now=later)
    assert not notices(session, status=Status.PENDING).exists()
    # And a row caught at send time is not sent either.
    row = notices(session).first()
    Notification.objects.filter(pk=row.pk).update(status=Status.PENDING)
    assert (
        sending.notification_send(notification_id=row.pk, claim_token="a", now=later)
        == "cancelled: no longer applies"
    )


@pytest.mark.date_sensitive
def test_re_saving_or_re_planning_adds_nothing(
    ada, bo, track, counselor, test_now, today, inline_tasks, django_capture_on_commit_callbacks
):
    session = group_session(track, today + timedelta(days=2))
    with django_capture_on_commit_callbacks(execute=True):
        cancel(session, counselor, test_now)
    assert ("plan_session_cancelled", session.pk) in inline_tasks
    first = {(r.dedupe_key, r.due_at) for r in notices(session)}
    assert len(first) == 3

    # A later save of the cancelled session, the planner again, the hourly re-plan and
    # a re-plan of the patient (a preference saved): the same rows, no new ones.
    with django_capture_on_commit_callbacks(execute=True):
        session.refresh_from_db()
        session.room = "Told in person too."
        session.save()
    an_hour_on = test_now + timedelta(hours=1)
    sessions.plan_session_cancellations([session.pk], now=an_hour_on)
    planning.replan_all(now=an_hour_on)
    planning.plan_patient(ada.pk, now=an_hour_on)
    assert {(r.dedupe_key, r.due_at) for r in notices(session)} == first
    assert not notices(session).exclude(status=Status.PENDING).exists()

    # Once sent, a re-plan leaves the history alone and sends nothing twice.
    ids = list(notices(session).values_list("pk", flat=True))
    sending.notifications_send_batch(notification_ids=ids, claim_token="t", now=an_hour_on)
    assert notices(session, status=Status.SENT).count() == 3
    planning.replan_all(now=an_hour_on + timedelta(hours=1))
    assert notices(session).count() == 3
    assert not notices(session, status=Status.PENDING).exists()
    assert len(mail.outbox) == 1


@pytest.mark.date_sensitive
def test_the_hourly_replan_catches_a_cancellation_whose_task_was_lost(
    ada, bo, track, counselor, test_now, today
):
    session = group_session(track, today + timedelta(days=2))
    cancel(session, counselor, test_now)  # its on-commit task never ran
    planning.replan_all(now=test_now + timedelta(hours=1))
    assert set(channels_by_patient(session)) == {ada.pk, bo.pk}
    # Due at the cancellation, not at the re-plan that found it late.
    assert all(abs(r.due_at - test_now) < timedelta(minutes=1) for r in notices(session))


@pytest.mark.date_sensitive
def test_a_session_created_cancelled_for_a_known_holiday_is_not_announced(
    ada, track, counselor, test_now, today, inline_tasks, django_capture_on_commit_callbacks
):
    # Materialized on a day already closed: patients never expected it, so it is shown
    # as cancelled in their schedule but not announced.
    with django_capture_on_commit_callbacks(execute=True):
        session = group_session(
            track,
            today + timedelta(days=2),
            status=SessionStatus.CANCELLED,
            status_reason="Holiday: Staff retreat",
        )
    sessions.plan_session_cancellations([session.pk], now=test_now)
    planning.replan_all(now=test_now)
    assert not notices(session).exists()


@pytest.mark.date_sensitive
def test_a_patient_who_switched_the_kind_off_gets_no_email(ada, track, counselor, test_now, today):
    assert Kind.SESSION_CANCELLED in PATIENT_OPTIONAL_KINDS  # informational, like reminders
    prefer(ada, Channel.EMAIL, disabled_kinds=[Kind.SESSION_CANCELLED])
    session = group_session(track, today + timedelta(days=2))
    cancel(session, counselor, test_now)
    sessions.plan_session_cancellations([session.pk], now=test_now)
    ids = list(notices(session).values_list("pk", flat=True))
    outcomes = sending.notifications_send_batch(
        notification_ids=ids, claim_token="t", now=test_now + timedelta(minutes=1)
    )
    assert set(outcomes.values()) == {"skipped: switched off by the recipient"}
    assert mail.outbox == []


@pytest.mark.frozen("2026-11-18T22:30:00-05:00")
def test_a_cancellation_in_quiet_hours_waits_for_them_to_end(ada, track, counselor, test_now):
    # Cancelled late in the evening for tomorrow evening: the email goes at 08:00 (a
    # cancellation dropped for quiet hours could send the patient to a closed door);
    # the portal copy is there at once.
    prefer(ada, Channel.EMAIL, quiet_start=time(21), quiet_end=time(8))
    session = group_session(track, test_now.date() + timedelta(days=1))
    cancel(session, counselor, test_now)
    sessions.plan_session_cancellations([session.pk], now=test_now)
    email = notices(session, patient=ada, channel=Channel.EMAIL).get()
    eight = local_datetime(test_now.date() + timedelta(days=1), time(8), track.site.tz)
    assert email.deliver_after == eight
    assert notices(session, patient=ada, channel=Channel.IN_APP).get().deliver_after < eight
    assert sending.notification_send(notification_id=email.pk, claim_token="a", now=eight) == (
        "sent"
    )


# --- holidays --------------------------------------------------------------------------


@pytest.mark.date_sensitive
def test_adding_a_holiday_announces_that_days_sessions(
    ada,
    bo,
    track,
    director,
    site,
    test_now,
    today,
    inline_tasks,
    django_capture_on_commit_callbacks,
):
    day = free_day(site, today + timedelta(days=2))
    evening = group_session(track, day)
    morning = group_session(track, day, start=time(9))
    sessions.plan_sessions([evening.pk, morning.pk], now=test_now)

    with django_capture_on_commit_callbacks(execute=True):
        holiday_add(actor=director, site=site, day=day, name="Staff retreat", now=test_now)

    for session in (evening, morning):
        session.refresh_from_db()
        assert session.status_reason == "Holiday: Staff retreat"
        assert channels_by_patient(session) == {
            ada.pk: {Channel.IN_APP, Channel.EMAIL},
            bo.pk: {Channel.IN_APP},
        }
        # The reminders of the session are withdrawn as before.
        assert not Notification.objects.filter(
            kind=Kind.SESSION_REMINDER, object_id=session.pk, status=Status.PENDING
        ).exists()


# --- the text ------------------------------------------------------------------------


@pytest.mark.date_sensitive
def test_the_text_names_no_treatment_and_shows_the_sites_clock(
    ada, bo, track, director, site, test_now, today
):
    site.name = "Riverside Recovery Center"
    site.save(update_fields=["name"])
    day = free_day(site, today + timedelta(days=2))
    session = group_session(track, day)
    holiday_add(actor=director, site=site, day=day, name="IOP staff training", now=test_now)
    sessions.plan_session_cancellations([session.pk], now=test_now)
    ids = list(notices(session).values_list("pk", flat=True))
    outcomes = sending.notifications_send_batch(
        notification_ids=ids, claim_token="t", now=test_now + timedelta(minutes=1)
    )
    assert set(outcomes.values()) == {"sent"}

    local_day = day.strftime("%a %b ") + str(day.day)  # e.g. "Thu Nov 26"
    texts = [(r.subject, r.body) for r in notices(session)]
    (message,) = mail.outbox
    texts.append((message.subject, message.body))
    for subject, body in texts:
        text = f"{subject}\n{body}"
        assert privacy.violations(text) == [], text
        for word in TREATMENT_WORDS:
            assert not re.search(rf"\b{word}", text, re.IGNORECASE), (word, text)
        assert "Riverside" not in text and "training" not in text  # no name, no reason
        assert "cancel" in body.lower()
        # 18:00 on the site's clock, not the server's UTC (23:00 or 22:00).
        assert f"on {local_day} at 6:00 PM" in body, body
    assert message.to == [ada.email]
    assert "Hi Ada" in message.body and messages.link_for(Kind.SESSION_CANCELLED) in message.body


@pytest.mark.date_sensitive
def test_a_24_hour_site_gets_a_24_hour_time(bo, track, counselor, site, test_now, today):
    site.clock_24h = True
    site.save(update_fields=["clock_24h"])
    session = group_session(track, today + timedelta(days=2))
    cancel(session, counselor, test_now)
    sessions.plan_session_cancellations([session.pk], now=test_now)
    row = notices(session).get()
    _, body = messages.render_checked(row)
    assert "at 18:00" in body, body
