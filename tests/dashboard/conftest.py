"""Dashboard fixtures: a week in the past with sessions, drug tests, meetings and homework.

The grid's week is fixed (Monday November 9 2026, New York), so page tests pass
``?week=`` and do not depend on the day they run.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

NY = ZoneInfo("America/New_York")
WEEK = date(2026, 11, 9)  # a Monday
# Wednesday of WEEK, 10:00 in New York: when the week's tests are ordered.
WED = datetime(2026, 11, 11, 10, 0, tzinfo=NY)


def queries(func) -> int:
    with CaptureQueriesContext(connection) as ctx:
        func()
    return len(ctx.captured_queries)


@pytest.fixture
def policy(site):
    from drugtests.models import TestingPolicy

    return TestingPolicy.objects.create(
        site=site,
        name="Daily",
        frequency=5,
        period="week",
        collection_days="0123456",
        panel=["buprenorphine", "fentanyl", "cocaine"],
    )


@pytest.fixture
def drug_test(policy, nurse):
    """A for-cause test collected (and, with ``results``, resulted) at ``now``."""
    from drugtests.services.collection import for_cause_order, specimen_collect
    from drugtests.services.results import result_enter

    def make(patient, *, now=WED, results=None, validity="valid", temperature=True):
        selection = for_cause_order(
            actor=nurse, patient=patient, reason="Observed behaviour", now=now
        )
        specimen_collect(
            actor=nurse,
            selection=selection,
            chain_of_custody_id=f"COC-{selection.pk}",
            method="poc",
            observed=True,
            temperature_in_range=temperature,
            validity=validity,
            now=now,
        )
        if results:
            result_enter(
                actor=nurse,
                selection=selection,
                source="poc",
                analytes={a: (o, None) for a, o in results.items()},
                now=now,
            )
        selection.refresh_from_db()
        return selection

    return make


@pytest.fixture
def homework_template(site, counselor):
    from recovery.services.homework import homework_template_create

    return homework_template_create(
        actor=counselor,
        site=site,
        title="Relapse plan",
        instructions="Write your plan.",
        now=datetime(2026, 9, 2, 9, tzinfo=NY),
    )


@pytest.fixture
def assign(homework_template, counselor):
    from recovery.services.homework import homework_assign

    def make(patient, due: date, template=None):
        return homework_assign(
            actor=counselor,
            patient=patient,
            template=template or homework_template,
            due_date=due,
            now=datetime.combine(due - timedelta(days=3), time(9), tzinfo=NY),
        )

    return make


@pytest.fixture
def requirement(site, director):
    from recovery.services.meetings import meeting_requirement_set

    return meeting_requirement_set(actor=director, site=site, meetings_per_week=3, fellowships=[])


@pytest.fixture
def log_meeting(counselor):
    from recovery.services.meetings import meeting_log, meeting_review

    def make(patient, held_at: datetime, *, verify=True):
        meeting = meeting_log(
            actor=counselor,
            patient=patient,
            held_at=held_at,
            fellowship="aa",
            name="Morning Serenity",
            mode="online",
            now=held_at + timedelta(hours=2),
        )
        if verify:
            meeting_review(
                actor=counselor, meeting=meeting, verify=True, now=held_at + timedelta(hours=3)
            )
        return meeting

    return make


@pytest.fixture
def week_sessions(track):
    """The evening track's Mon/Tue/Thu sessions of WEEK (3 x 3 h)."""
    from core.clock import local_datetime
    from scheduling.models import Session

    return [
        Session.objects.create(
            site=track.site,
            track=track,
            local_date=day,
            starts_at=local_datetime(day, time(18), track.site.tz),
            ends_at=local_datetime(day, time(21), track.site.tz),
            kind="group",
            facilitator=track.default_facilitator,
            room=track.room,
            capacity=track.capacity,
            created_at=datetime(2026, 9, 1, tzinfo=NY),
        )
        for day in (WEEK, WEEK + timedelta(days=1), WEEK + timedelta(days=3))
    ]


@pytest.fixture
def attend(counselor):
    from scheduling.services.attendance import attendance_record

    def mark(session, patient, status="present"):
        return attendance_record(
            actor=counselor,
            session=session,
            patient=patient,
            status=status,
            now=session.ends_at + timedelta(minutes=30),
        )

    return mark


@pytest.fixture
def full_week(
    make_patient,
    track,
    week_sessions,
    attend,
    drug_test,
    requirement,
    log_meeting,
    assign,
    counselor,
):
    """Robin: every session, a negative test, 2 of 3 meetings, homework late/on time/missing.
    Sam: one session, a positive test, nothing else."""
    from recovery.services.homework import homework_submit, homework_template_create

    robin = make_patient(first="Robin", last="Owner", track=track)
    sam = make_patient(first="Sam", last="Abel", track=track)
    for s in week_sessions:
        attend(s, robin)
    attend(week_sessions[0], sam)
    attend(week_sessions[1], sam, status="unexcused")
    drug_test(robin, results={"fentanyl": "negative", "cocaine": "negative"})
    drug_test(sam, results={"cocaine": "positive"})
    log_meeting(robin, datetime.combine(WEEK, time(12), tzinfo=NY))
    log_meeting(robin, datetime.combine(WEEK + timedelta(days=2), time(12), tzinfo=NY))

    def template(title):
        return homework_template_create(
            actor=counselor,
            site=robin.site,
            title=title,
            instructions="Write it.",
            now=datetime(2026, 9, 2, 9, tzinfo=NY),
        )

    late = assign(robin, WEEK + timedelta(days=1), template("Triggers"))
    on_time = assign(robin, WEEK + timedelta(days=3), template("Gratitude list"))
    assign(robin, WEEK + timedelta(days=4), template("Step one"))
    homework_submit(actor=counselor, assignment=late, text="x", now=WED)
    homework_submit(actor=counselor, assignment=on_time, text="x", now=WED - timedelta(hours=20))
    return robin, sam
