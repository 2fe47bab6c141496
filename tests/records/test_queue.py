"""The queue of what a clinician owes: each kind of item, who may open whose queue, the
staff home's counts and alerts, and a fixed number of queries whatever the size."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from alerts.services import alerts_sweep
from core.models import AuditEvent
from records.selectors.queue import queue_for
from tests.conftest import PASSWORD

from . import _queue_fixtures as fx
from ._queue_fixtures import make_group_note, make_note, make_plan_version, make_session

supervision = fx.supervision
licensed_colleague = fx.licensed_colleague

pytestmark = pytest.mark.django_db


def _client(client, user):
    client.login(username=user.username, password=PASSWORD)
    return client


def _owed_world(*, counselor, track, make_patient, today, test_now, size: int) -> dict:
    """``size`` of every kind of item the counselor owes or waits on the director for."""
    held = today - timedelta(days=10)
    world: dict = {"patients": [make_patient(track=track) for _ in range(size)]}
    for p in world["patients"]:
        make_note(author=counselor, patient=p, service_date=held, due_on=today - timedelta(days=1))
        make_note(author=counselor, patient=p, service_date=today, due_on=today + timedelta(days=3))
        make_note(author=counselor, patient=p, service_date=held, signed_at=test_now)
        make_plan_version(author=counselor, patient=p, signed_at=test_now)
    for i in range(size):
        # One session owed (no note), one with a draft, one signed and waiting.
        statuses = {world["patients"][0]: "present"}
        make_session(
            track=track, facilitator=counselor, day=held - timedelta(days=i), statuses=statuses
        )
        draft_session = make_session(
            track=track,
            facilitator=counselor,
            day=held - timedelta(days=i),
            statuses=statuses,
            at=time(9, 0),
        )
        make_group_note(session=draft_session, author=counselor)
    signed = make_session(
        track=track,
        facilitator=counselor,
        day=held,
        statuses=dict.fromkeys(world["patients"], "present"),
        at=time(13, 0),
    )
    world["group"] = make_group_note(session=signed, author=counselor, signed_at=test_now)
    return world


def test_the_queue_lists_each_kind_of_item(
    supervision, counselor, track, make_patient, today, test_now
):
    patient = make_patient(track=track)
    make_plan_version(author=counselor, patient=make_patient(track=track))  # a draft
    draft_due = make_note(
        author=counselor,
        patient=patient,
        service_date=today - timedelta(days=5),
        due_on=today - timedelta(days=1),
    )
    draft_later = make_note(
        author=counselor, patient=patient, service_date=today, due_on=today + timedelta(days=3)
    )
    held = today - timedelta(days=10)
    owed_session = make_session(
        track=track, facilitator=counselor, day=held, statuses={patient: "present"}
    )
    absent_only = make_session(
        track=track,
        facilitator=counselor,
        day=held - timedelta(days=1),
        statuses={patient: "unexcused"},
    )
    queue = queue_for(counselor, viewer=counselor, now=test_now)
    assert len(queue.plan_drafts) == 1
    assert {n.pk for n in queue.note_drafts} == {draft_due.pk, draft_later.pk}
    assert [d.note.pk for d in queue.notes_due] == [draft_due.pk]
    assert queue.notes_due[0].overdue
    sessions = [s.session.pk for s in queue.sessions_due]
    assert owed_session.pk in sessions and absent_only.pk not in sessions
    # Both patients of the caseload have no signed plan: the initial plan is overdue.
    assert len(queue.plans_due) == 2 and all(p.overdue for p in queue.plans_due)
    assert queue.cosigns_count == 0


def test_a_signed_group_shows_once_in_the_supervisors_queue(
    supervision, counselor, director, track, make_patient, today, test_now
):
    people = [make_patient(track=track) for _ in range(3)]
    session = make_session(
        track=track,
        facilitator=counselor,
        day=today - timedelta(days=1),
        statuses=dict.fromkeys(people, "present"),
    )
    group = make_group_note(session=session, author=counselor, signed_at=test_now)
    note = make_note(author=counselor, patient=people[0], service_date=today, signed_at=test_now)
    version = make_plan_version(author=counselor, patient=people[1], signed_at=test_now)
    queue = queue_for(director, viewer=director, now=test_now)
    assert [g.pk for g in queue.group_cosigns] == [group.pk]
    assert [n.pk for n in queue.note_cosigns] == [note.pk]
    assert [v.pk for v in queue.plan_cosigns] == [version.pk]
    # The counselor's own signed work waits for someone else, not for them.
    assert queue_for(counselor, viewer=counselor, now=test_now).cosigns_count == 0


def test_the_queue_page_shows_each_section(
    client, supervision, counselor, director, track, make_patient, today, test_now
):
    _owed_world(
        counselor=counselor,
        track=track,
        make_patient=make_patient,
        today=today,
        test_now=test_now,
        size=2,
    )
    page = _client(client, counselor).get(reverse("records:queue")).content.decode()
    assert page.count('data-testid="queue-note-due"') == 2
    assert page.count('data-testid="queue-session-due"') == 4
    assert page.count('data-testid="queue-plan-due"') == 0  # every patient has a signed plan
    assert page.count('data-testid="queue-note-draft"') == 4
    assert page.count('data-testid="queue-group-draft"') == 2
    assert "Overdue" in page
    client.logout()
    page = _client(client, director).get(reverse("records:queue")).content.decode()
    assert page.count('data-testid="queue-group-cosign"') == 1
    assert page.count('data-testid="queue-note-cosign"') == 2
    assert page.count('data-testid="queue-plan-cosign"') == 2
    assert reverse("records:note_cosign", args=[1]).rsplit("/", 3)[0] in page
    assert AuditEvent.objects.filter(action="records.queue.viewed", actor=director).count() == 1


# --- whose queue -------------------------------------------------------------------


def test_a_supervisor_opens_their_supervisees_queue(
    client, supervision, counselor, director, patient, today
):
    make_note(author=counselor, patient=patient, service_date=today, due_on=today)
    response = _client(client, director).get(reverse("records:queue"), {"clinician": counselor.pk})
    assert response.status_code == 200
    assert response.context["clinician"] == counselor
    assert len(response.context["owed"].note_drafts) == 1


def test_a_licensed_supervisor_who_is_not_director_opens_only_their_supervisees(
    client, supervision, counselor, other_counselor, licensed_colleague
):
    profile = counselor.staff_profile
    profile.supervisor = licensed_colleague
    profile.save()
    c = _client(client, licensed_colleague)
    assert c.get(reverse("records:queue"), {"clinician": counselor.pk}).status_code == 200
    assert c.get(reverse("records:queue"), {"clinician": other_counselor.pk}).status_code == 404


def test_a_counselor_sees_their_own_queue(client, counselor):
    response = _client(client, counselor).get(reverse("records:queue"), {"clinician": counselor.pk})
    assert response.status_code == 200


def test_a_colleague_cannot_open_another_clinicians_queue(
    client, supervision, counselor, other_counselor
):
    response = _client(client, other_counselor).get(
        reverse("records:queue"), {"clinician": counselor.pk}
    )
    assert response.status_code == 404
    assert AuditEvent.objects.filter(
        action="records.queue_view", outcome=AuditEvent.Outcome.DENIED, actor=other_counselor
    ).exists()


def test_another_sites_counselor_cannot_open_the_queue(client, counselor, outside_counselor):
    response = _client(client, outside_counselor).get(
        reverse("records:queue"), {"clinician": counselor.pk}
    )
    assert response.status_code == 404


def test_another_organisations_director_cannot_open_the_queue(client, counselor):
    from django.contrib.auth.models import Group

    from core.models import Organization, StaffProfile, User
    from core.roles import role_group_name

    org = Organization.objects.create(name="Elsewhere", mrn_prefix="EW")
    user = User.objects.create_user(username="far_director", password=PASSWORD)
    StaffProfile.objects.create(user=user, organization=org, role="director", licensed=True)
    user.groups.add(Group.objects.get(name=role_group_name("director")))
    response = _client(client, user).get(reverse("records:queue"), {"clinician": counselor.pk})
    assert response.status_code == 404


def test_a_malformed_clinician_shows_a_message(client, counselor):
    response = _client(client, counselor).get(reverse("records:queue"), {"clinician": "abc"})
    assert response.status_code == 200
    assert "Choose a clinician from the list." in response.content.decode()


def test_front_desk_has_no_queue(client, frontdesk):
    assert _client(client, frontdesk).get(reverse("records:queue")).status_code == 403


# --- the staff home ----------------------------------------------------------------


def test_the_staff_home_says_what_the_counselor_owes(
    client, supervision, counselor, track, make_patient, today
):
    patient = make_patient(track=track)
    make_note(
        author=counselor,
        patient=patient,
        service_date=today - timedelta(days=5),
        due_on=today - timedelta(days=1),
    )
    page = _client(client, counselor).get(reverse("home")).content.decode()
    assert 'data-testid="records-owed-panel"' in page
    summary = page.split('data-testid="records-owed-summary"')[1].split("</p>")[0]
    assert "<strong>1</strong> draft," in summary
    assert "<strong>1</strong> note overdue" in summary
    assert "<strong>1</strong> plan due" in summary
    assert "<strong>0</strong> co-signatures" in summary


def test_the_staff_home_of_the_supervisor_counts_cosignatures(
    client, supervision, counselor, director, patient, today, test_now
):
    make_note(author=counselor, patient=patient, service_date=today, signed_at=test_now)
    page = _client(client, director).get(reverse("home")).content.decode()
    summary = page.split('data-testid="records-owed-summary"')[1].split("</p>")[0]
    assert "<strong>1</strong> co-signature." in summary


def test_front_desk_home_has_no_owed_panel(client, frontdesk):
    page = _client(client, frontdesk).get(reverse("home")).content.decode()
    assert "records-owed-panel" not in page


def test_overdue_note_and_plan_alerts_reach_the_counselors_home(
    client, supervision, counselor, track, make_patient, today
):
    patient = make_patient(track=track)
    make_note(
        author=counselor,
        patient=patient,
        service_date=today - timedelta(days=5),
        due_on=today - timedelta(days=1),
    )
    alerts_sweep()
    page = _client(client, counselor).get(reverse("home")).content.decode()
    assert "not signed; it was due" in page
    assert "Initial plan was due" in page


def test_the_medical_home_carries_no_note_alerts(
    client, supervision, counselor, nurse, track, make_patient, today
):
    patient = make_patient(track=track)
    make_note(
        author=counselor,
        patient=patient,
        service_date=today - timedelta(days=5),
        due_on=today - timedelta(days=1),
    )
    alerts_sweep()
    assert (
        _client(client, counselor)
        .get(reverse("home"))
        .content.decode()
        .count("not signed; it was due")
    )
    page = _client(client, nurse).get(reverse("home")).content.decode()
    assert "not signed; it was due" not in page
    assert "Initial plan was due" not in page


# --- a fixed number of queries -----------------------------------------------------


def _count(client, user, path) -> int:
    client.get(path)  # warm the session and the caches a first request fills
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("viewer", ["counselor", "director"])
def test_the_queue_page_runs_the_same_queries_at_3_and_30_items(
    client,
    supervision,
    counselor,
    director,
    track,
    make_patient,
    today,
    test_now,
    viewer,
    django_assert_num_queries,
):
    user = {"counselor": counselor, "director": director}[viewer]
    _owed_world(
        counselor=counselor,
        track=track,
        make_patient=make_patient,
        today=today,
        test_now=test_now,
        size=3,
    )
    c = _client(client, user)
    path = reverse("records:queue") + (f"?clinician={counselor.pk}" if viewer == "director" else "")
    small = _count(c, user, path)
    _owed_world(
        counselor=counselor,
        track=track,
        make_patient=make_patient,
        today=today,
        test_now=test_now,
        size=27,
    )
    with django_assert_num_queries(small):
        c.get(path)
    # The sessions owed bring their sites' calendars and the caseload its sites' record
    # rules in the same query (15 and 14 before); a counselor's sites are read once a
    # request (core.access.staff_sites; 13 before).
    assert small == {"counselor": 12, "director": 12}[viewer]


def test_notes_and_sessions_due_are_listed_overdue_first(
    supervision, counselor, track, make_patient, today, test_now
):
    patient = make_patient(track=track)
    due_today = make_note(
        author=counselor, patient=patient, service_date=today - timedelta(days=3), due_on=today
    )
    session = make_session(
        track=track,
        facilitator=counselor,
        day=today - timedelta(days=20),
        statuses={patient: "present"},
    )
    older = make_note(
        author=counselor,
        patient=patient,
        service_date=today - timedelta(days=9),
        due_on=today - timedelta(days=2),
    )
    due = queue_for(counselor, viewer=counselor, now=test_now).due
    keys = [getattr(d, "note", None) or d.session for d in due]
    assert keys == [session, older, due_today]
    assert [d.overdue for d in due] == [True, True, False]
    assert due[-1].due_today


# --- a long backlog ----------------------------------------------------------------


def test_a_long_backlog_lists_the_oldest_fifty_and_says_how_many_more_wait(
    client, supervision, counselor, director, track, make_patient, today, test_now
):
    from records.views.queue import QUEUE_SHOWN

    patient = make_patient(track=track)
    for minutes in range(QUEUE_SHOWN + 5):
        make_note(
            author=counselor,
            patient=patient,
            service_date=today - timedelta(days=1),
            signed_at=test_now - timedelta(minutes=minutes),
        )
    page = _client(client, director).get(reverse("records:queue"))
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('data-testid="queue-note-cosign"') == QUEUE_SHOWN
    assert "5 more not shown" in html
    # The count in the tab is the whole backlog, not the page.
    assert f">{QUEUE_SHOWN + 5}</span>" in html


# --- the co-sign queue reads its head, not the backlog ---------------------------------


def _waiting_notes(*, counselor, patient, today, test_now, count: int, offset: int = 0) -> None:
    for minutes in range(offset, offset + count):
        make_note(
            author=counselor,
            patient=patient,
            service_date=today - timedelta(days=1),
            signed_at=test_now - timedelta(minutes=minutes),
        )


def test_the_co_sign_queue_runs_the_same_queries_at_3_and_60_waiting(
    client,
    supervision,
    counselor,
    director,
    track,
    make_patient,
    today,
    test_now,
    django_assert_num_queries,
):
    patient = make_patient(track=track)
    _waiting_notes(counselor=counselor, patient=patient, today=today, test_now=test_now, count=3)
    c = _client(client, director)
    path = reverse("records:queue")
    small = _count(c, director, path)
    _waiting_notes(
        counselor=counselor, patient=patient, today=today, test_now=test_now, count=57, offset=3
    )
    with django_assert_num_queries(small):
        assert c.get(path).status_code == 200
    assert small == 10


# Both ways of reading the head: a UNION of the drafts and the LIMIT (PostgreSQL), and the
# OR that SQLite, the demo's database, needs (it refuses a LIMIT inside a UNION's parts).
@pytest.mark.parametrize(
    "union",
    [
        pytest.param(
            True, marks=pytest.mark.skipif(connection.vendor == "sqlite", reason="SQLite")
        ),
        False,
    ],
    ids=["union", "or"],
)
def test_the_co_sign_queue_reads_the_longest_waiting_fifty_and_counts_the_rest(
    supervision, counselor, director, track, make_patient, today, test_now, monkeypatch, union
):
    from records.selectors.queue import QUEUE_SHOWN

    monkeypatch.setattr(connection.features, "supports_slicing_ordering_in_compound", union)
    patient = make_patient(track=track)
    make_note(author=director, patient=patient, service_date=today)  # a draft of their own
    _waiting_notes(
        counselor=counselor, patient=patient, today=today, test_now=test_now, count=QUEUE_SHOWN + 5
    )
    queue = queue_for(director, viewer=director, now=test_now)
    assert len(queue.note_drafts) == 1
    assert len(queue.note_cosigns) == QUEUE_SHOWN
    assert queue.note_cosigns_total == queue.cosigns_count == QUEUE_SHOWN + 5
    # The oldest signature first: the five most recent are the ones left unread.
    signed = [n.signed_at for n in queue.note_cosigns]
    assert signed == sorted(signed)
    assert signed[-1] == test_now - timedelta(minutes=5)
