"""The kinds planned from other apps' data: session reminders, the check-in notice and
its deadline reminder, homework due/overdue, staff alerts, the weekly meeting shortfall
and the staff morning digest. Source rows are written with the ORM, as those apps'
bulk paths do (no post_save): the sweeps must find them."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from notifications import planning, sending
from notifications.models import (
    Channel,
    Kind,
    Notification,
    NotificationPreference,
    SiteNotificationSettings,
    Status,
)
from notifications.sources import alerts, digests, homework, meetings, sessions

NY = ZoneInfo("America/New_York")
pytestmark = pytest.mark.django_db


def rows_of(kind, **filters):
    return Notification.objects.filter(kind=kind, **filters)


def local(rows):
    return sorted({r.due_at.astimezone(NY).replace(tzinfo=None) for r in rows})


@pytest.fixture
def on_track(make_patient, track):
    p = make_patient(first="Tracy", track=track, portal=True)
    NotificationPreference.objects.create(
        user=p.user,
        channel=Channel.IN_APP,
        quiet_start=None,
        quiet_end=None,
        updated_at=timezone.now(),
    )
    return p


def group_session(track, starts: datetime, **extra):
    from scheduling.models import Session

    return Session.objects.create(
        site=track.site,
        track=track,
        local_date=starts.date(),
        starts_at=starts,
        ends_at=starts + timedelta(hours=3),
        kind="group",
        created_at=timezone.now(),
        **extra,
    )


# --- sessions ----------------------------------------------------------------------


def test_session_reminders_go_24h_and_2h_before_in_site_time(on_track, track):
    session = group_session(track, datetime(2026, 12, 3, 18, 0, tzinfo=NY))
    sessions.plan_sessions(now=datetime(2026, 12, 1, 12, 0, tzinfo=NY))
    assert not rows_of(Kind.SESSION_REMINDER).exists()  # 54 h ahead: not yet in the window
    sessions.plan_sessions(now=datetime(2026, 12, 2, 17, 0, tzinfo=NY))
    rows = rows_of(Kind.SESSION_REMINDER, object_id=session.pk, recipient=on_track.user)
    assert local(rows) == [datetime(2026, 12, 2, 18, 0), datetime(2026, 12, 3, 16, 0)]
    assert {r.channel for r in rows} == {Channel.IN_APP}


def test_session_reminder_offsets_are_configurable_per_site(on_track, track, site):
    SiteNotificationSettings.objects.create(site=site, session_reminder_hours=[48])
    session = group_session(track, datetime(2026, 12, 4, 18, 0, tzinfo=NY))
    sessions.plan_sessions(now=datetime(2026, 12, 2, 16, 0, tzinfo=NY))
    assert local(rows_of(Kind.SESSION_REMINDER, object_id=session.pk)) == [
        datetime(2026, 12, 2, 18, 0)
    ]


def test_cancelled_session_cancels_its_pending_reminders(on_track, track):
    session = group_session(track, datetime(2026, 12, 3, 18, 0, tzinfo=NY))
    now = datetime(2026, 12, 2, 17, 0, tzinfo=NY)
    sessions.plan_sessions(now=now)
    type(session).objects.filter(pk=session.pk).update(status="cancelled")
    sessions.plan_sessions(now=now)
    assert not rows_of(Kind.SESSION_REMINDER, status=Status.PENDING).exists()
    assert rows_of(Kind.SESSION_REMINDER, status=Status.CANCELLED).count() == 2


def test_moved_session_replans_its_reminders(on_track, track):
    session = group_session(track, datetime(2026, 12, 3, 18, 0, tzinfo=NY))
    now = datetime(2026, 12, 2, 17, 0, tzinfo=NY)
    sessions.plan_sessions(now=now)
    moved = datetime(2026, 12, 3, 10, 0, tzinfo=NY)
    type(session).objects.filter(pk=session.pk).update(
        starts_at=moved, ends_at=moved + timedelta(hours=3)
    )
    sessions.plan_sessions(now=now)
    pending = rows_of(Kind.SESSION_REMINDER, status=Status.PENDING)
    assert local(pending) == [datetime(2026, 12, 2, 10, 0), datetime(2026, 12, 3, 8, 0)]


def test_session_booked_late_sends_one_reminder_not_every_overdue_one(on_track, track):
    session = group_session(track, datetime(2026, 12, 3, 18, 0, tzinfo=NY))
    sessions.plan_sessions(now=datetime(2026, 12, 3, 17, 0, tzinfo=NY))
    assert local(rows_of(Kind.SESSION_REMINDER, object_id=session.pk)) == [
        datetime(2026, 12, 3, 16, 0)
    ]


def test_session_reminder_for_a_cancelled_session_is_not_sent(on_track, track):
    session = group_session(track, datetime(2026, 12, 3, 18, 0, tzinfo=NY))
    sessions.plan_sessions(now=datetime(2026, 12, 2, 17, 0, tzinfo=NY))
    type(session).objects.filter(pk=session.pk).update(status="cancelled")
    row = rows_of(Kind.SESSION_REMINDER).order_by("due_at").first()
    outcome = sending.notification_send(notification_id=row.pk, claim_token="a", now=row.due_at)
    assert outcome == "cancelled: no longer applies"


# --- drug tests ------------------------------------------------------------------------


@pytest.fixture
def selection_for(site):
    from drugtests.models import Selection, TestingPolicy

    policy = TestingPolicy.objects.create(site=site, name="Phase 1", frequency=2)

    def make(patient, *, drawn_at, deadline):
        return Selection.objects.create(
            patient=patient,
            site=site,
            date=drawn_at.astimezone(NY).date(),
            kind="for_cause",
            reason="Observed behaviour",
            policy=policy,
            deadline=deadline,
            created_at=drawn_at,
        )

    return make


def test_check_in_notice_is_planned_by_the_tick_and_waits_out_quiet_hours(
    patient, selection_for, sms_outbox
):
    patient.phone = "+15185550142"
    patient.save()
    NotificationPreference.objects.create(
        user=patient.user,
        channel=Channel.SMS,
        sms_consent_at=timezone.now(),
        updated_at=timezone.now(),
    )  # default quiet hours 21:00-08:00
    drawn = datetime(2026, 12, 3, 6, 0, tzinfo=NY)
    sel = selection_for(patient, drawn_at=drawn, deadline=datetime(2026, 12, 3, 17, 0, tzinfo=NY))
    planning.tick(now=drawn + timedelta(minutes=1))
    notice = {r.channel: r for r in rows_of(Kind.DRUG_TEST_NOTICE, object_id=sel.pk)}
    assert notice[Channel.IN_APP].deliver_after == drawn
    assert notice[Channel.SMS].deliver_after == datetime(2026, 12, 3, 8, 0, tzinfo=NY)
    assert local(rows_of(Kind.TEST_DEADLINE, object_id=sel.pk)) == [datetime(2026, 12, 3, 15, 0)]
    at_eight = datetime(2026, 12, 3, 8, 0, tzinfo=NY)
    assert (
        sending.notification_send(
            notification_id=notice[Channel.SMS].pk, claim_token="a", now=at_eight
        )
        == "sent"
    )
    assert "by 5:00 PM" in sms_outbox[0]["body"]


def test_collected_test_cancels_the_deadline_reminder(patient, selection_for):
    drawn = datetime(2026, 12, 3, 9, 0, tzinfo=NY)
    sel = selection_for(patient, drawn_at=drawn, deadline=datetime(2026, 12, 3, 17, 0, tzinfo=NY))
    planning.tick(now=drawn)
    type(sel).objects.filter(pk=sel.pk).update(status="collected")
    planning.tick(now=drawn + timedelta(hours=1))
    assert not rows_of(Kind.TEST_DEADLINE, status=Status.PENDING).exists()
    assert rows_of(Kind.TEST_DEADLINE, status=Status.CANCELLED).exists()


def test_tick_plans_each_selection_once(patient, selection_for):
    drawn = datetime(2026, 12, 3, 9, 0, tzinfo=NY)
    selection_for(patient, drawn_at=drawn, deadline=datetime(2026, 12, 3, 17, 0, tzinfo=NY))
    for minute in range(3):
        planning.tick(now=drawn + timedelta(minutes=minute))
    assert rows_of(Kind.DRUG_TEST_NOTICE).count() == 1  # in-app only (default preference)
    assert rows_of(Kind.TEST_DEADLINE).count() == 1


def test_staff_alert_goes_to_the_primary_counselor_under_their_own_name(
    patient, selection_for, counselor, settings
):
    from drugtests.models import TestAlert

    counselor.email = "counselor@example.org"
    counselor.save()
    NotificationPreference.objects.create(
        user=counselor,
        channel=Channel.EMAIL,
        quiet_start=None,
        quiet_end=None,
        updated_at=timezone.now(),
    )
    patient.email = "robin@example.org"
    patient.save()
    now = timezone.now()
    sel = selection_for(
        patient, drawn_at=now - timedelta(hours=3), deadline=now - timedelta(hours=1)
    )
    TestAlert.objects.create(
        kind="missed", patient=patient, site=patient.site, selection=sel, created_at=now
    )
    planning.tick(now=now)
    email = rows_of(Kind.STAFF_ALERT, channel=Channel.EMAIL).get()
    assert email.recipient == counselor
    from django.core import mail

    assert sending.notification_send(notification_id=email.pk, claim_token="a", now=now) == "sent"
    assert mail.outbox[0].to == ["counselor@example.org"]
    assert "Counselor" in mail.outbox[0].body and "Robin" not in mail.outbox[0].body


# --- homework ----------------------------------------------------------------------------


@pytest.fixture
def assignment_for(site, counselor):
    from recovery.models import HomeworkAssignment, HomeworkTemplate

    template = HomeworkTemplate.objects.create(
        site=site,
        title="Triggers log",
        instructions="Fill it in",
        created_by=counselor,
        created_at=timezone.now(),
    )

    def make(patient, due: date):
        return HomeworkAssignment.objects.create(
            patient=patient,
            site=site,
            template=template,
            title=template.title,
            instructions="x",
            due_date=due,
            assigned_by=counselor,
            assigned_at=timezone.now(),
        )

    return make


def test_homework_due_and_overdue_reminders(patient, assignment_for):
    a = assignment_for(patient, date(2026, 12, 10))
    homework.plan_homework(now=datetime(2026, 12, 1, 12, tzinfo=NY))
    assert local(rows_of(Kind.HOMEWORK_DUE, object_id=a.pk)) == [datetime(2026, 12, 9, 17, 0)]
    assert local(rows_of(Kind.HOMEWORK_OVERDUE, object_id=a.pk)) == [datetime(2026, 12, 11, 9, 0)]


def test_handed_in_homework_cancels_its_reminders(patient, assignment_for):
    a = assignment_for(patient, date(2026, 12, 10))
    now = datetime(2026, 12, 1, 12, tzinfo=NY)
    homework.plan_homework(now=now)
    type(a).objects.filter(pk=a.pk).update(status="submitted")
    homework.plan_homework(now=now)
    assert not Notification.objects.filter(status=Status.PENDING).exists()


# --- weekly meeting shortfall, staff digest ------------------------------------------------


def test_meeting_shortfall_is_sent_friday_noon_only_when_short(patient, site):
    from recovery.models import MeetingRequirement

    MeetingRequirement.objects.create(site=site, meetings_per_week=3)
    now = datetime(2026, 12, 2, 9, 0, tzinfo=NY)  # a Wednesday
    meetings.plan_meeting_shortfall(now=now)
    row = rows_of(Kind.MEETING_SHORTFALL, recipient=patient.user).get()
    assert row.due_at == datetime(2026, 12, 4, 12, 0, tzinfo=NY)
    assert (
        sending.notification_send(notification_id=row.pk, claim_token="a", now=row.due_at) == "sent"
    )
    row.refresh_from_db()
    assert row.body == "You have logged 0 of 3 meetings asked of you this week."


def test_meeting_shortfall_is_not_sent_without_a_requirement(patient):
    now = datetime(2026, 12, 2, 9, 0, tzinfo=NY)
    meetings.plan_meeting_shortfall(now=now)
    row = rows_of(Kind.MEETING_SHORTFALL, recipient=patient.user).get()
    assert sending.notification_send(
        notification_id=row.pk, claim_token="a", now=row.due_at
    ).startswith("cancelled")


def test_staff_digest_is_planned_each_morning_in_site_time(counselor):
    digests.plan_digests(now=datetime(2026, 12, 2, 6, 0, tzinfo=NY))
    digests.plan_digests(now=datetime(2026, 12, 2, 6, 5, tzinfo=NY))
    row = rows_of(Kind.STAFF_DIGEST, recipient=counselor).get()
    assert row.due_at == datetime(2026, 12, 2, 7, 30, tzinfo=NY) and row.channel == Channel.IN_APP


def test_full_replan_is_idempotent(on_track, track, selection_for, assignment_for, counselor):
    now = datetime(2026, 12, 1, 12, 0, tzinfo=NY)
    group_session(track, datetime(2026, 12, 2, 10, 0, tzinfo=NY))
    selection_for(on_track, drawn_at=now - timedelta(hours=1), deadline=now + timedelta(hours=5))
    assignment_for(on_track, date(2026, 12, 10))

    planning.replan_all(now=now)
    first = set(Notification.objects.values_list("dedupe_key", "status"))
    planning.replan_all(now=now)
    assert set(Notification.objects.values_list("dedupe_key", "status")) == first
    assert {k for k, _ in Notification.objects.values_list("kind", "status")} >= {
        Kind.SESSION_REMINDER,
        Kind.DRUG_TEST_NOTICE,
        Kind.TEST_DEADLINE,
        Kind.HOMEWORK_DUE,
        Kind.MEETING_SHORTFALL,
    }
    _ = time  # quiet hours are covered in test_channels_and_preferences


def test_second_unexcused_absence_in_a_row_alerts_the_counselor(on_track, track, counselor):
    from scheduling.models import Attendance

    now = timezone.now()
    first = group_session(track, datetime(2026, 12, 1, 18, 0, tzinfo=NY))
    second = group_session(track, datetime(2026, 12, 3, 18, 0, tzinfo=NY))

    def absent(session):
        return Attendance.objects.create(
            session=session, patient=on_track, status="unexcused", recorded_at=now, updated_at=now
        )

    one = absent(first)
    alerts.plan_absence_alerts([one.pk], now=now)
    assert not rows_of(Kind.STAFF_ALERT).exists()
    two = absent(second)
    alerts.plan_absence_alerts(now=now)
    alert = rows_of(Kind.STAFF_ALERT, object_id=two.pk).get()
    assert alert.recipient == counselor and alert.patient == on_track
    Attendance.objects.filter(pk=two.pk).update(status="excused")
    alerts.plan_absence_alerts(now=now)
    assert rows_of(Kind.STAFF_ALERT, object_id=two.pk).get().status == Status.CANCELLED


def test_a_cancelled_session_between_two_absences_neither_counts_nor_breaks_the_streak(
    on_track, track, counselor
):
    """The reminder's rule agrees with the dashboard's
    (scheduling.selectors.streaks.unexcused_streaks): a cancelled session's attendance row
    is not an absence in a row."""
    from scheduling.models import Attendance, SessionStatus

    now = timezone.now()
    attended = group_session(track, datetime(2026, 12, 1, 18, 0, tzinfo=NY))
    called_off = group_session(track, datetime(2026, 12, 3, 18, 0, tzinfo=NY))
    missed = group_session(track, datetime(2026, 12, 8, 18, 0, tzinfo=NY))

    def mark(session, status):
        return Attendance.objects.create(
            session=session, patient=on_track, status=status, recorded_at=now, updated_at=now
        )

    mark(attended, "present")
    mark(called_off, "unexcused")  # marked, then the session was cancelled
    called_off.status = SessionStatus.CANCELLED
    called_off.save(update_fields=["status"])
    last = mark(missed, "unexcused")
    alerts.plan_absence_alerts([last.pk], now=now)
    assert not rows_of(Kind.STAFF_ALERT, object_id=last.pk).exists()
