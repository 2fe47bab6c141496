"""Effective dates: a change dated in the future is held until the site's local date
reaches it, then applied once by the beat task through the same service."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from core.clock import local_datetime, site_today, week_start
from core.models import AuditEvent
from patients.models import Enrollment, EnrollmentEvent, EnrollmentStatus, TrackMembership
from patients.selectors import site_census
from patients.services.admission import patient_admit
from patients.services.enrollment import (
    enrollment_change_level,
    enrollment_change_phase,
    enrollment_change_track,
    enrollment_discharge,
)
from patients.services.scheduled_changes import (
    scheduled_change_apply,
    scheduled_change_cancel,
    scheduled_changes_apply_due,
)

pytestmark = pytest.mark.django_db

Kind = EnrollmentEvent.Kind


def url(name, *args):
    return reverse(f"patients:{name}", args=args)


def noon(day, site):
    return local_datetime(day, time(12), site.tz)


def apply_due(now):
    return scheduled_changes_apply_due(now=now)


def pending(patient):
    from patients.models import ScheduledChange

    return ScheduledChange.objects.filter(patient=patient, status="pending")


@pytest.fixture
def admit(site, frontdesk, counselor, test_now):
    """Admit through the service at the test's own instant (the shared ``make_patient``
    admits at a fixed instant, which a swept date can precede)."""

    def make(*, at_site=site, admitted=None, track=None, phase=None, level="2.1", first="Robin"):
        today = site_today(at_site, test_now)
        return patient_admit(
            actor=frontdesk,
            site=at_site,
            legal_first_name=first,
            legal_last_name="Owner",
            date_of_birth=datetime(1990, 5, 17).date(),
            primary_substance="opioids",
            level=level,
            track=track,
            phase=phase,
            counselor=counselor,
            admission_date=admitted or today - timedelta(days=30),
            now=test_now,
        )

    return make


@pytest.fixture
def current(admit, track, phases):
    return admit(track=track, phase=phases[0])


# --- admission ---------------------------------------------------------------------


@pytest.mark.date_sensitive
def test_future_admission_is_not_counted_until_its_date(admit, site, track, today, test_now):
    start = today + timedelta(days=7)
    result = admit(admitted=start, track=track)
    patient = result.patient
    assert not Enrollment.objects.filter(patient=patient).exists()
    assert site_census([site.pk]) == []
    assert not TrackMembership.objects.filter(patient=patient).exists()
    assert pending(patient).get().effective_date == start

    assert apply_due(noon(start - timedelta(days=1), site))["applied"] == 0
    assert not Enrollment.objects.filter(patient=patient).exists()

    apply_due(noon(start, site))
    enrollment = patient.enrollments.get()
    assert (enrollment.status, enrollment.admission_date) == (EnrollmentStatus.ACTIVE, start)
    assert site_census([site.pk])[0]["active"] == 1
    membership = TrackMembership.objects.get(patient=patient)
    assert (membership.track, membership.start_date) == (track, start)


def test_intake_view_schedules_a_future_admission(client, frontdesk, site, track, today):
    client.force_login(frontdesk)
    start = today + timedelta(days=200)
    response = client.post(
        url("intake"),
        {
            "site": site.pk,
            "legal_first_name": "Ana",
            "legal_last_name": "Lopez",
            "date_of_birth": "1991-04-05",
            "sex": "F",
            "phone": "(518) 555-0142",
            "preferred_contact": "sms",
            "primary_substance": "alcohol",
            "level": "2.1",
            "track": track.pk,
            "admission_date": start.isoformat(),
            "referral_source": "self",
        },
    )
    assert response.status_code == 302
    from patients.models import Patient

    patient = Patient.objects.get()
    assert not patient.enrollments.exists()
    assert pending(patient).get().kind == "admission"


def test_admission_more_than_a_year_ahead_is_refused(client, frontdesk, site, today):
    client.force_login(frontdesk)
    response = client.post(
        url("intake"),
        {
            "site": site.pk,
            "legal_first_name": "Ana",
            "legal_last_name": "Lopez",
            "date_of_birth": "1991-04-05",
            "sex": "F",
            "phone": "(518) 555-0142",
            "preferred_contact": "sms",
            "primary_substance": "alcohol",
            "level": "2.1",
            "admission_date": (today + timedelta(days=400)).isoformat(),
            "referral_source": "self",
        },
    )
    assert response.status_code == 200
    assert "more than a year ahead" in response.content.decode()
    from patients.models import Patient

    assert not Patient.objects.exists()


# --- changes to an open enrollment --------------------------------------------------


@pytest.mark.date_sensitive
def test_future_step_down_keeps_this_weeks_minimum(current, site, today, test_now, op_track):
    from scheduling.selectors.hours import weekly_hours

    patient = current.patient
    step = today + timedelta(days=3)
    enrollment_change_level(
        actor=None,
        enrollment=current,
        level="1.0",
        track=op_track,
        effective_date=step,
        reason="Stable",
        now=test_now,
    )
    current.refresh_from_db()
    assert current.level == "2.1"
    row = weekly_hours([patient], week_start(today), now=test_now)[0]
    assert row.minimum_minutes == 9 * 60
    assert not current.events.filter(kind=Kind.LEVEL).exists()

    apply_due(noon(step, site))
    current.refresh_from_db()
    assert (current.level, current.track) == ("1.0", op_track)
    assert current.events.get(kind=Kind.LEVEL).effective_date == step
    assert TrackMembership.objects.get(enrollment=current, end_date__isnull=True).start_date == step


@pytest.mark.date_sensitive
def test_future_discharge_leaves_the_patient_active_until_its_date(current, site, today, test_now):
    leave = today + timedelta(days=10)
    enrollment_discharge(
        actor=None,
        enrollment=current,
        discharge_date=leave,
        discharge_type="completed",
        aftercare_plan="OP weekly",
        now=test_now,
    )
    current.refresh_from_db()
    assert current.status == EnrollmentStatus.ACTIVE
    assert site_census([site.pk])[0]["active"] == 1
    assert TrackMembership.objects.get(enrollment=current).end_date is None

    apply_due(noon(leave - timedelta(days=1), site))
    current.refresh_from_db()
    assert current.status == EnrollmentStatus.ACTIVE

    apply_due(noon(leave, site))
    current.refresh_from_db()
    assert (current.status, current.discharge_date) == (EnrollmentStatus.DISCHARGED, leave)


def test_future_phase_and_track_changes_wait(current, site, today, test_now, phases, day_track):
    on = today + timedelta(days=5)
    enrollment_change_phase(
        actor=None, enrollment=current, phase=phases[1], effective_date=on, now=test_now
    )
    enrollment_change_track(
        actor=None, enrollment=current, track=day_track, effective_date=on, now=test_now
    )
    current.refresh_from_db()
    assert (current.phase, current.track_id) == (phases[0], current.track_id)
    assert current.track.name == "IOP Evening"
    apply_due(noon(on, site))
    current.refresh_from_db()
    assert (current.phase, current.track) == (phases[1], day_track)


def test_the_task_applies_each_change_once(current, site, today, test_now):
    on = today + timedelta(days=2)
    enrollment_change_level(
        actor=None, enrollment=current, level="2.5", effective_date=on, reason="r", now=test_now
    )
    change = pending(current.patient).get()
    first = apply_due(noon(on, site))
    second = apply_due(noon(on, site) + timedelta(minutes=5))
    assert (first["applied"], second["applied"]) == (1, 0)
    assert scheduled_change_apply(change_id=change.pk, now=noon(on, site)) == "skipped"
    assert current.events.filter(kind=Kind.LEVEL).count() == 1
    change.refresh_from_db()
    assert change.status == "applied"


def test_the_task_applies_in_the_sites_zone(admit, other_site, frontdesk):
    from patients.models import Track

    west = Track.objects.create(site=other_site, name="West", kind="day", level="2.1")
    # 12:00 UTC on 18 Nov is 04:00 in Los Angeles: both sides agree it is the 18th.
    scheduled_at = datetime(2026, 11, 18, 12, tzinfo=UTC)
    enrollment = patient_admit(
        actor=frontdesk,
        site=other_site,
        legal_first_name="Lee",
        legal_last_name="West",
        date_of_birth=datetime(1990, 5, 17).date(),
        primary_substance="opioids",
        level="2.1",
        track=west,
        admission_date=datetime(2026, 10, 1).date(),
        now=scheduled_at,
    )
    due = datetime(2026, 11, 20).date()
    enrollment_change_level(
        actor=None,
        enrollment=enrollment,
        level="2.5",
        effective_date=due,
        reason="r",
        now=scheduled_at,
    )
    # 01:00 UTC on the 20th is 17:00 on the 19th in Los Angeles.
    assert apply_due(datetime(2026, 11, 20, 1, tzinfo=UTC))["applied"] == 0
    enrollment.refresh_from_db()
    assert enrollment.level == "2.1"
    # 08:30 UTC is 00:30 on the 20th there.
    assert apply_due(datetime(2026, 11, 20, 8, 30, tzinfo=UTC))["applied"] == 1
    enrollment.refresh_from_db()
    assert enrollment.level == "2.5"


def test_a_change_more_than_a_year_ahead_or_before_admission_is_refused(
    client, counselor, current, today
):
    client.force_login(counselor)
    patient = current.patient
    for when, message in (
        (today + timedelta(days=370), "more than a year ahead"),
        (current.admission_date - timedelta(days=1), "cannot be before admission"),
    ):
        response = client.post(
            url("change_level", patient.pk),
            {
                "level": "1.0",
                "effective_date": when.isoformat(),
                "reason": "r",
                "version": current.version,
            },
        )
        assert response.status_code == 200
        assert message in response.content.decode()
    current.refresh_from_db()
    assert current.level == "2.1"
    assert not pending(patient).exists()


# --- the views ------------------------------------------------------------------------


def test_future_posts_via_the_views_only_schedule(client, counselor, current, today):
    client.force_login(counselor)
    patient = current.patient
    later = today + timedelta(days=4)
    response = client.post(
        url("change_level", patient.pk),
        {"level": "1.0", "effective_date": later.isoformat(), "reason": "r", "version": 1},
    )
    assert response.status_code == 302
    current.refresh_from_db()
    response = client.post(
        url("discharge", patient.pk),
        {
            "discharge_date": (later + timedelta(days=1)).isoformat(),
            "discharge_type": "completed",
            "aftercare_plan": "OP",
            "version": current.version,
        },
    )
    assert response.status_code == 302
    current.refresh_from_db()
    assert (current.level, current.status) == ("2.1", EnrollmentStatus.ACTIVE)
    assert sorted(pending(patient).values_list("kind", flat=True)) == ["discharge", "level"]


def test_the_chart_shows_the_upcoming_change_with_a_cancel_button(
    client, counselor, current, today, test_now
):
    on = today + timedelta(days=6)
    enrollment_change_level(
        actor=counselor,
        enrollment=current,
        level="2.5",
        effective_date=on,
        reason="r",
        now=test_now,
    )
    change = pending(current.patient).get()
    client.force_login(counselor)
    page = client.get(url("chart", current.patient.pk)).content.decode()
    assert 'data-testid="upcoming-changes"' in page
    assert "PHP 2.5" in page
    assert on.strftime("%b %-d, %Y") in page
    assert url("scheduled_change_cancel", current.patient.pk, change.pk) in page


def test_cancelling_is_audited_and_a_cancelled_change_never_applies(
    client, counselor, current, site, today, test_now
):
    on = today + timedelta(days=3)
    enrollment_change_level(
        actor=counselor,
        enrollment=current,
        level="2.5",
        effective_date=on,
        reason="r",
        now=test_now,
    )
    change = pending(current.patient).get()
    client.force_login(counselor)
    cancel = url("scheduled_change_cancel", current.patient.pk, change.pk)
    response = client.post(cancel, {"reason": ""})
    assert response.status_code == 200
    change.refresh_from_db()
    assert change.status == "pending"

    response = client.post(cancel, {"reason": "Assessment changed"})
    assert response.status_code == 302
    change.refresh_from_db()
    assert (change.status, change.cancelled_by, change.cancel_reason) == (
        "cancelled",
        counselor,
        "Assessment changed",
    )
    assert AuditEvent.objects.filter(
        action="scheduled_change.cancelled", actor=counselor, patient_id=current.patient_id
    ).exists()
    assert apply_due(noon(on, site))["applied"] == 0
    current.refresh_from_db()
    assert current.level == "2.1"


@pytest.mark.parametrize("reason", ["x" * 501, "null\x00byte"])
def test_a_cancel_reason_too_long_or_with_a_nul_is_refused_and_nothing_cancelled(
    counselor, current, today, test_now, reason
):
    enrollment_change_level(
        actor=counselor,
        enrollment=current,
        level="2.5",
        effective_date=today + timedelta(days=3),
        reason="r",
        now=test_now,
    )
    change = pending(current.patient).get()
    with pytest.raises(ValidationError):
        scheduled_change_cancel(actor=counselor, change=change, reason=reason)
    change.refresh_from_db()
    assert change.status == "pending"


@pytest.mark.parametrize(
    ("who", "status"),
    [("counselor", 302), ("director", 302), ("other_counselor", 404), ("outside_counselor", 404)],
)
def test_cancel_view_access(request, client, current, today, test_now, who, status):
    on = today + timedelta(days=3)
    enrollment_change_level(
        actor=None, enrollment=current, level="2.5", effective_date=on, reason="r", now=test_now
    )
    change = pending(current.patient).get()
    client.force_login(request.getfixturevalue(who))
    response = client.post(
        url("scheduled_change_cancel", current.patient.pk, change.pk), {"reason": "no"}
    )
    assert response.status_code == status
    change.refresh_from_db()
    assert change.status == ("cancelled" if status == 302 else "pending")


def test_a_back_dated_level_change_states_the_past_weeks_it_changes(
    client, counselor, current, today
):
    monday = week_start(today) - timedelta(days=7)
    client.force_login(counselor)
    response = client.post(
        url("change_level", current.patient.pk),
        {"level": "2.5", "effective_date": monday.isoformat(), "reason": "r", "version": 1},
        follow=True,
    )
    page = response.content.decode()
    weeks = f"{monday:%a %b %-d} and {monday + timedelta(days=7):%a %b %-d}"
    assert f"Back-dated to {monday:%a %b %-d, %Y}" in page
    assert f"the weekly minimum for the weeks of {weeks} is now 20 h" in page
    current.refresh_from_db()
    assert current.level == "2.5"


def test_the_caseload_lists_a_patient_whose_admission_is_upcoming(
    client, counselor, admit, track, today
):
    start = today + timedelta(days=9)
    patient = admit(admitted=start, track=track, first="Future").patient
    client.force_login(counselor)
    response = client.get(reverse("patients:caseload"))
    assert patient in response.context["page"].object_list
    assert f"Admission on {start:%a %b %-d}" in response.content.decode()


def test_front_desk_may_cancel_an_admission_but_not_a_clinical_change(
    client, frontdesk, admit, current, track, today, test_now
):
    enrollment_change_level(
        actor=None,
        enrollment=current,
        level="2.5",
        effective_date=today + timedelta(days=3),
        reason="r",
        now=test_now,
    )
    level = pending(current.patient).get()
    admission = pending(admit(admitted=today + timedelta(days=3), first="Next").patient).get()
    client.force_login(frontdesk)
    cancel = url("scheduled_change_cancel", level.patient_id, level.pk)
    assert client.post(cancel, {"reason": "no"}).status_code == 403
    cancel = url("scheduled_change_cancel", admission.patient_id, admission.pk)
    assert client.post(cancel, {"reason": "Declined the program"}).status_code == 302
    level.refresh_from_db()
    admission.refresh_from_db()
    assert (level.status, admission.status) == ("pending", "cancelled")


def test_the_beat_runs_the_task_every_few_minutes_and_it_is_acks_late(settings):
    from patients.tasks import apply_due_changes

    entries = {e["task"]: e for e in settings.CELERY_BEAT_SCHEDULE.values()}
    entry = entries["patients.tasks.apply_due_changes"]
    assert entry["options"]["expires"] <= 5 * 60
    assert apply_due_changes.acks_late is True


def test_a_change_refused_on_its_date_is_marked_failed_and_shown(
    client, counselor, current, site, day_track, today, test_now
):
    on = today + timedelta(days=2)
    enrollment_change_track(
        actor=counselor, enrollment=current, track=day_track, effective_date=on, now=test_now
    )
    day_track.is_active = False
    day_track.save(update_fields=["is_active"])
    assert apply_due(noon(on, site))["failed"] == 1
    change = current.patient.scheduled_changes.get()
    assert change.status == "failed"
    assert "no longer running" in change.failure
    current.refresh_from_db()
    assert current.track.name == "IOP Evening"
    client.force_login(counselor)
    page = client.get(url("chart", current.patient.pk)).content.decode()
    assert "Could not be applied" in page and "no longer running" in page
