"""Every view that takes an object id, walked from the URLconf, against four users:
the owner (who must get in), a colleague with access (who must get in), staff of
another site with the same role, and another patient (both: 404 and an audit row).

A route that takes an id and is missing from OBJECT_ROUTES fails
``test_every_id_route_is_covered``: a new view cannot slip through.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.urls import reverse

from core.models import AuditEvent
from patients.services.consents import consent_create
from patients.services.enrollment import enrollment_change_track, enrollment_hold
from patients.services.medication import medication_order_create
from tests.conftest import SCENARIO_NOW

from .urlwalk import iter_routes

# Written for the suite's scenario instant (tests/conftest.py).
pytestmark = pytest.mark.frozen(SCENARIO_NOW)


@dataclass
class ObjectRoute:
    kwargs: object  # callable(world) -> dict
    owner: str  # world attribute of a user who must get in
    colleague: str | None = "director"  # another user with access (None: nobody else)
    method: str = "get"
    portal: bool = False  # a patient's own page: staff are refused by role


def _p(w):
    return {"pk": w.patient.pk}


def _s(w):
    return {"pk": w.session.pk}


def _sel(w):
    return {"pk": w.selection.pk}


OBJECT_ROUTES: dict[str, ObjectRoute] = {
    "patients:chart": ObjectRoute(_p, "counselor", "nurse"),
    "patients:timeline": ObjectRoute(_p, "counselor", "nurse"),
    "patients:demographics": ObjectRoute(_p, "frontdesk", "counselor"),
    "patients:change_phase": ObjectRoute(_p, "counselor"),
    "patients:change_track": ObjectRoute(_p, "counselor"),
    "patients:change_level": ObjectRoute(_p, "counselor"),
    "patients:change_counselor": ObjectRoute(_p, "counselor"),
    "patients:hold": ObjectRoute(_p, "counselor"),
    "patients:resume": ObjectRoute(_p, "counselor"),
    "patients:discharge": ObjectRoute(_p, "counselor"),
    "patients:readmit": ObjectRoute(_p, "counselor"),
    "patients:medication_add": ObjectRoute(_p, "nurse"),
    "patients:medication_stop": ObjectRoute(
        lambda w: {"pk": w.patient.pk, "order_pk": w.order.pk}, "nurse"
    ),
    "patients:medication_injection_due": ObjectRoute(
        lambda w: {"pk": w.patient.pk, "order_pk": w.order.pk}, "nurse"
    ),
    "patients:consent_add": ObjectRoute(_p, "frontdesk", "counselor"),
    "patients:scheduled_change_cancel": ObjectRoute(
        lambda w: {"pk": w.patient.pk, "change_pk": w.scheduled.pk}, "counselor"
    ),
    "patients:consent_revoke": ObjectRoute(
        lambda w: {"pk": w.patient.pk, "consent_pk": w.consent.pk}, "frontdesk", "counselor"
    ),
    "privacy:patient_access_log": ObjectRoute(_p, "director", None),
    "privacy:disclose": ObjectRoute(_p, "counselor", "frontdesk"),
    "privacy:disclosure": ObjectRoute(lambda w: {"pk": w.disclosure.pk}, "counselor", "frontdesk"),
    # Contingency management (#18): a patient's CM episode, its rewards, enrolment.
    "contingency:episode": ObjectRoute(lambda w: {"pk": w.cm_episode.pk}, "counselor", "frontdesk"),
    "contingency:issue": ObjectRoute(
        lambda w: {"pk": w.cm_episode.pk}, "counselor", "frontdesk", method="post"
    ),
    "contingency:end": ObjectRoute(lambda w: {"pk": w.cm_episode.pk}, "counselor", "nurse"),
    "contingency:reconcile": ObjectRoute(
        lambda w: {"pk": w.cm_issued.pk}, "counselor", "frontdesk", method="post"
    ),
    "contingency:enroll": ObjectRoute(
        lambda w: {"patient_id": w.patient.pk}, "counselor", "frontdesk"
    ),
    # Scheduling: sessions and tracks belong to a site; rosters name patients.
    "scheduling:attendance": ObjectRoute(_s, "counselor", "frontdesk"),
    "scheduling:attendance_mark": ObjectRoute(
        lambda w: {"pk": w.session.pk, "patient_pk": w.patient.pk},
        "counselor",
        "frontdesk",
        method="post",
    ),
    "scheduling:all_present": ObjectRoute(_s, "counselor", "frontdesk", method="post"),
    "scheduling:make_up": ObjectRoute(_s, "counselor", "frontdesk", method="post"),
    "scheduling:session_cancel": ObjectRoute(_s, "counselor", "frontdesk"),
    "scheduling:session_move": ObjectRoute(_s, "counselor", "frontdesk"),
    "scheduling:track": ObjectRoute(lambda w: {"pk": w.track.pk}, "counselor", "frontdesk"),
    "scheduling:series_create": ObjectRoute(lambda w: {"pk": w.track.pk}, "counselor"),
    "scheduling:series_edit": ObjectRoute(lambda w: {"pk": w.series.pk}, "counselor"),
    "scheduling:book": ObjectRoute(lambda w: {"patient_pk": w.patient.pk}, "counselor", "nurse"),
    # Records, group notes (#17): the session's group note and its sign-in sheet.
    "records:group_note": ObjectRoute(_s, "counselor", "nurse"),
    "records:group_sign": ObjectRoute(_s, "counselor", method="post"),
    "records:signin_sheet": ObjectRoute(_s, "counselor", "frontdesk"),
    # Drug testing: selections, their specimens and alerts, and the site's draws.
    "drugtests:selection": ObjectRoute(_sel, "nurse", "counselor"),
    "drugtests:collect": ObjectRoute(_sel, "collector", "nurse"),
    "drugtests:refuse": ObjectRoute(_sel, "collector", "nurse", method="post"),
    "drugtests:result": ObjectRoute(_sel, "nurse"),
    "drugtests:excuse": ObjectRoute(_sel, "nurse", method="post"),
    "drugtests:for_cause": ObjectRoute(
        lambda w: {"patient_pk": w.patient.pk}, "nurse", "counselor"
    ),
    "drugtests:resolve_alert": ObjectRoute(lambda w: {"pk": w.alert.pk}, "nurse", method="post"),
    "drugtests:label": ObjectRoute(_sel, "collector", "nurse"),  # #19: specimen labels
    "drugtests:draw": ObjectRoute(lambda w: {"pk": w.draw.pk}, "director", None),
    "notifications:resend": ObjectRoute(
        lambda w: {"pk": w.notification.pk}, "counselor", method="post"
    ),
    # Recovery: meetings, homework and the files attached to them.
    "recovery:patient": ObjectRoute(_p, "counselor", "frontdesk"),
    "recovery:meeting_review": ObjectRoute(
        lambda w: {"pk": w.meeting.pk}, "counselor", method="post"
    ),
    "recovery:homework_review": ObjectRoute(
        lambda w: {"pk": w.submission.pk}, "counselor", method="post"
    ),
    "recovery:file": ObjectRoute(lambda w: {"pk": w.meeting.sheet_id}, "counselor", "frontdesk"),
    "recovery:portal_file": ObjectRoute(
        lambda w: {"pk": w.meeting.sheet_id}, "patient_user", None, portal=True
    ),
    "recovery:portal_homework_submit": ObjectRoute(
        lambda w: {"pk": w.assignment.pk}, "patient_user", None, method="post", portal=True
    ),
    # --- #17 (queue): co-signing; the author is refused on the merits (a redirect with
    # the reason), the director co-signs.
    "records:note_cosign": ObjectRoute(lambda w: {"pk": w.note.pk}, "counselor", method="post"),
    "records:plan_cosign": ObjectRoute(
        lambda w: {"pk": w.plan_version.pk}, "counselor", method="post"
    ),
    "records:group_cosign": ObjectRoute(
        lambda w: {"pk": w.group_note.pk}, "counselor", method="post"
    ),
    # --- end #17 (queue)
    # --- #17 (plans): the plan pages; the signed version w.plan_version and the draft
    # w.plan_draft (with w.plan_problem) of the counselor. Removing a part: the nurse
    # (not the author) is refused on the merits, then the author removes it.
    "records:plan": ObjectRoute(_p, "counselor", "nurse"),
    "records:plan_start": ObjectRoute(_p, "counselor", method="post"),
    "records:plan_review": ObjectRoute(
        lambda w: {"pk": w.plan_version.plan_id}, "counselor", method="post"
    ),
    "records:plan_version": ObjectRoute(lambda w: {"pk": w.plan_version.pk}, "counselor", "nurse"),
    "records:plan_patient_sign": ObjectRoute(lambda w: {"pk": w.plan_version.pk}, "counselor"),
    "records:plan_edit": ObjectRoute(lambda w: {"pk": w.plan_draft.pk}, "counselor"),
    "records:plan_sign": ObjectRoute(lambda w: {"pk": w.plan_draft.pk}, "counselor"),
    "records:plan_part_add": ObjectRoute(
        lambda w: {"pk": w.plan_draft.pk, "kind": "goal"}, "counselor"
    ),
    "records:plan_part_edit": ObjectRoute(
        lambda w: {"pk": w.plan_draft.pk, "kind": "problem", "part_pk": w.plan_problem.pk},
        "counselor",
    ),
    "records:plan_part_remove": ObjectRoute(
        lambda w: {"pk": w.plan_draft.pk, "kind": "problem", "part_pk": w.plan_problem.pk},
        "nurse",
        "counselor",
        method="post",
    ),
    # --- end #17 (plans)
    # --- #17 (notes): a patient's notes, a note's pages (a signed note's edit and sign
    # pages show it read-only), addenda to a note and to a plan version.
    "records:patient_notes": ObjectRoute(_p, "counselor", "nurse"),
    "records:note_new": ObjectRoute(_p, "counselor", "nurse"),
    "records:note": ObjectRoute(lambda w: {"pk": w.note.pk}, "counselor", "nurse"),
    "records:note_edit": ObjectRoute(lambda w: {"pk": w.note.pk}, "counselor", "director"),
    "records:note_sign": ObjectRoute(lambda w: {"pk": w.note.pk}, "counselor", "director"),
    "records:note_addendum": ObjectRoute(lambda w: {"pk": w.note.pk}, "counselor", "nurse"),
    "records:plan_addendum": ObjectRoute(lambda w: {"pk": w.plan_version.pk}, "counselor", "nurse"),
    # --- end #17 (notes)
    # --- #18 (checkin): the patient's own sittings; the staff's safety follow-up.
    "measures:checkin_item": ObjectRoute(
        lambda w: {"pk": w.checkin.pk, "number": 1}, "patient_user", None, portal=True
    ),
    "measures:checkin_language": ObjectRoute(
        lambda w: {"pk": w.checkin.pk}, "patient_user", None, method="post", portal=True
    ),
    "measures:checkin_review": ObjectRoute(
        lambda w: {"pk": w.checkin.pk}, "patient_user", None, portal=True
    ),
    "measures:checkin_done": ObjectRoute(
        lambda w: {"pk": w.safety_event.administration_id}, "patient_user", None, portal=True
    ),
    "measures:safety_followup": ObjectRoute(
        lambda w: {"pk": w.safety_event.pk}, "counselor", "nurse"
    ),
    # --- end #18 (checkin)
    # --- #18 (chart): scores, a sitting's answers, staff entry, make due now.
    "measures:patient_scores": ObjectRoute(
        lambda w: {"patient_id": w.patient.pk}, "counselor", "nurse"
    ),
    "measures:administration": ObjectRoute(
        lambda w: {"pk": w.administration.pk}, "counselor", "nurse"
    ),
    "measures:staff_entry": ObjectRoute(
        lambda w: {"patient_id": w.patient.pk, "code": "phq9"}, "counselor", "nurse"
    ),
    "measures:request": ObjectRoute(
        lambda w: {"patient_id": w.patient.pk}, "counselor", "nurse", method="post"
    ),
    # --- end #18 (chart)
    # --- #19 (exchange): the patient's FHIR Bundle, made at their request.
    "exchange:patient_bundle": ObjectRoute(_p, "counselor", "frontdesk"),
    # --- end #19 (exchange)
    # --- #19 (letters): a patient's letters, the letter form under a consent, a letter
    # and its stored PDF, the director's accounting of disclosures, the record printed at
    # the patient's request.
    "letters:patient": ObjectRoute(_p, "counselor", "frontdesk"),
    "letters:new": ObjectRoute(
        lambda w: {"pk": w.patient.pk, "consent_pk": w.consent.pk}, "counselor", "director"
    ),
    "letters:letter": ObjectRoute(lambda w: {"pk": w.letter.pk}, "counselor", "frontdesk"),
    "letters:pdf": ObjectRoute(lambda w: {"pk": w.letter.pk}, "counselor", "nurse"),
    "letters:patient_disclosures": ObjectRoute(_p, "director", None),
    "letters:record_pdf": ObjectRoute(_p, "counselor", "nurse", method="post"),
    # --- end #19 (letters)
    # --- #19 (labs): a lab message matched to the patient's specimen, waiting.
    "labs:message": ObjectRoute(lambda w: {"pk": w.lab_message.pk}, "nurse", "director"),
    "labs:match": ObjectRoute(
        lambda w: {"pk": w.lab_message.pk}, "nurse", "director", method="post"
    ),
    "labs:retry": ObjectRoute(
        lambda w: {"pk": w.lab_message.pk}, "nurse", "director", method="post"
    ),
    "labs:close": ObjectRoute(
        lambda w: {"pk": w.lab_message.pk}, "nurse", "director", method="post"
    ),
    # --- end #19 (labs)
}
# Routes with an id that do not belong to a patient, each with the reason.
NOT_PATIENT_DATA = {
    "privacy:break_glass_review": "director-only action on a grant; checked in test_break_glass",
    "privacy:account_unlock": (
        "director-only action on a staff account of the organisation; owner, colleague and "
        "outsider checked in test_staff_accounts"
    ),
    "privacy:mfa_reset": "a staff account, not a patient; checked in test_mfa_recovery",
    "contingency:program_edit": (
        "a site's CM program, director only; owner, colleague and outsider checked in "
        "tests/contingency/test_programs"
    ),
    "labs:inbound": (
        "a laboratory's HL7 endpoint: an interface id and its bearer token, no session; "
        "checked in tests/labs/test_channels"
    ),
    "labs:code": "the shared LOINC code table, director only; checked in tests/labs/test_review",
    "labs:interface": (
        "a laboratory of the organisation, director only; owner and outsider checked in "
        "tests/labs/test_review"
    ),
    "labs:interface_token": (
        "a new token for a laboratory of the organisation, director only; checked in "
        "tests/labs/test_review"
    ),
    "records:settings": (
        "a site's record rules, director only; owner, colleague and outsider checked in "
        "tests/records/test_settings"
    ),
    "letters:batch": (
        "a caseload's batch of letters, seen by its maker, the counselor and the director; "
        "checked in tests/letters/test_views (each letter's patient is checked again)"
    ),
    "alerts:acknowledge": (
        "an alert about a patient, set aside by staff who may see that patient; owner, "
        "colleague and outsider checked in tests/alerts/test_set_aside"
    ),
    "alerts:snooze": (
        "an alert about a patient, set aside by staff who may see that patient; owner, "
        "colleague and outsider checked in tests/alerts/test_set_aside"
    ),
    "letters:letterhead": (
        "a site's letterhead, director only; owner, colleague and outsider checked in "
        "tests/letters/test_views"
    ),
}


def id_routes() -> set[str]:
    return {r.name for r in iter_routes() if r.takes_id and not r.name.startswith("admin:")}


def test_every_id_route_is_covered():
    assert id_routes() - set(OBJECT_ROUTES) - set(NOT_PATIENT_DATA) == set()


class World:
    pass


@pytest.fixture
def world(
    make_staff, other_site, patient, other_patient, counselor, director, nurse, frontdesk, track
):
    from datetime import time

    from django.utils import timezone

    from scheduling.models import Session
    from scheduling.services.materialization import sessions_materialize
    from scheduling.services.series import series_create

    w = World()
    w.track = track
    w.series = series_create(
        actor=counselor,
        track=track,
        weekdays=["MO", "TU", "TH"],
        start_time=time(18),
        end_time=time(21),
        starts_on=date(2026, 9, 1),
        topic="Relapse prevention",
        kind="relapse_prevention",
        now=timezone.now(),
    )
    enrollment_change_track(
        actor=counselor,
        enrollment=patient.enrollments.get(),
        track=track,
        effective_date=date(2026, 9, 1),
    )
    sessions_materialize(site=track.site, now=timezone.now(), first=date(2026, 9, 1))
    w.session = Session.objects.filter(series=w.series, local_date__gte=date(2026, 9, 2)).first()
    w.patient, w.other_patient = patient, other_patient
    w.counselor, w.director, w.nurse, w.frontdesk = counselor, director, nurse, frontdesk
    w.order = medication_order_create(
        actor=nurse,
        patient=patient,
        medication="naltrexone_xr",
        dose="380 mg",
        frequency="monthly",
        prescriber="Dr. Adler",
        start_date=date(2026, 9, 1),
        next_injection_due=date(2026, 12, 1),
    )
    w.consent = consent_create(
        actor=frontdesk,
        patient=patient,
        recipient="County Court",
        purpose="Compliance",
        information_disclosed="Attendance",
        sections=["attendance"],
        signed_on=date(2026, 9, 1),
    )
    from privacy.services import disclosure_create

    w.disclosure = disclosure_create(
        actor=counselor,
        patient=patient,
        consent=w.consent,
        recipient="County Court",
        purpose="Compliance",
    )
    from django.core.files.uploadedfile import SimpleUploadedFile

    from recovery.services.homework import (
        homework_assign,
        homework_submit,
        homework_template_create,
    )
    from recovery.services.meetings import meeting_log

    w.patient_user = patient.user
    w.meeting = meeting_log(
        actor=patient.user,
        patient=patient,
        held_at=timezone.now() - timezone.timedelta(days=1),
        fellowship="na",
        name="Tuesday Night Hope",
        mode="online",
        sheet=SimpleUploadedFile("sheet.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"),
    )
    template = homework_template_create(
        actor=counselor, site=patient.site, title="Step 1", instructions="Write about step 1."
    )
    w.assignment = homework_assign(
        actor=counselor, patient=patient, template=template, due_date=date(2027, 1, 15)
    )
    w.submission = homework_submit(
        actor=patient.user, assignment=w.assignment, text="My step 1 work."
    )
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from drugtests.models import TestAlert, TestingPolicy
    from drugtests.services.random_draw import draw_run

    TestingPolicy.objects.create(
        site=patient.site,
        name="Daily",
        frequency=5,
        period="week",
        collection_days="01234",
        panel=["buprenorphine", "fentanyl"],
    )
    monday = datetime(2026, 11, 16, 7, tzinfo=ZoneInfo("America/New_York"))
    draw_run(site=patient.site, on=monday.date(), now=monday)
    w.selection = patient.test_selections.get()
    w.draw = w.selection.draw
    w.alert = TestAlert.objects.create(
        kind="missed",
        patient=patient,
        site=patient.site,
        selection=w.selection,
        created_at=monday,
    )
    w.collector = make_staff("collector_here", "collector")
    from notifications.models import Notification

    w.notification = Notification.objects.create(
        kind="injection_due",
        recipient=patient.user,
        patient=patient,
        channel="email",
        due_at=monday,
        deliver_after=monday,
        dedupe_key=f"test:{patient.pk}",
        status="sent",
        sent_at=monday,
        created_at=monday,
        updated_at=monday,
    )
    # A hold dated ahead waits as a scheduled change until its date.
    w.scheduled = enrollment_hold(
        actor=counselor,
        enrollment=patient.enrollments.get(),
        effective_date=timezone.localdate(timezone.now(), patient.site.tz) + timedelta(days=20),
        reason="Family trip",
    )
    # --- #17 (queue): a signed note, plan version and group note of the counselor.
    from tests.records._queue_fixtures import make_group_note, make_note, make_plan_version

    signed = timezone.now()
    w.note = make_note(
        author=counselor, patient=patient, service_date=w.session.local_date, signed_at=signed
    )
    w.plan_version = make_plan_version(author=counselor, patient=patient, signed_at=signed)
    w.group_note = make_group_note(session=w.session, author=counselor, signed_at=signed)
    # --- end #17 (queue)
    # --- #17 (plans): a draft after the signed version, with a problem.
    from records.services.plans import plan_problem_add

    w.plan_draft = make_plan_version(author=counselor, patient=patient)
    w.plan_problem = plan_problem_add(
        actor=counselor, version=w.plan_draft, dimension=5, description="Cravings"
    )
    # --- end #17 (plans)
    # --- #18 (CM screens): an episode with two rewards earned and one handed out.
    from decimal import Decimal

    from contingency.services.ledger import reward_issue
    from tests.contingency._screens_fixtures import earn_run, enrol, make_program

    cm_today = timezone.localdate(timezone.now(), patient.site.tz)
    w.cm_episode = enrol(
        patient, make_program(patient.site), counselor, starts_on=cm_today - timedelta(days=20)
    )
    earn_run(w.cm_episode, cm_today - timedelta(days=18), ["10.00", "11.50"])
    w.cm_issued = reward_issue(
        actor=counselor, cm_enrollment=w.cm_episode, amount=Decimal("5"), reward_ref="W-1"
    )
    # --- end #18 (CM screens)
    # --- #18 (checkin): a PHQ-9 with item 9 above 0 (its safety event), and a GAD-7 due.
    from measures import instrument_data
    from measures.models import Instrument, InstrumentItem, SafetyEvent
    from measures.services.administrations import administration_create, instrument_current
    from tests.measures._checkin_fixtures import WITH_ITEM9, complete

    for code in ("phq9", "gad7"):
        instrument_data.load(Instrument, InstrumentItem, code)
    today = timezone.localdate(timezone.now(), patient.site.tz)
    phq9 = administration_create(
        actor=None,
        patient=patient,
        instrument=instrument_current("phq9"),
        reason="scheduled",
        due_on=today,
    )
    complete(phq9, WITH_ITEM9)
    w.safety_event = SafetyEvent.objects.get(administration=phq9)
    w.checkin = administration_create(
        actor=None,
        patient=patient,
        instrument=instrument_current("gad7"),
        reason="scheduled",
        due_on=today,
    )
    # --- end #18 (checkin)
    # --- #18 (chart): a completed PHQ-9 of the patient's.
    from tests.measures._chart_fixtures import sit_phq9

    w.administration = sit_phq9(
        patient, 9, at=timezone.now() - timedelta(days=1), actor=patient.user
    )
    # --- end #18 (chart)
    # --- #19 (letters): a letter to the consent's recipient.
    from letters.services import letter_create

    w.letter = letter_create(
        actor=counselor,
        patient=patient,
        consent=w.consent,
        sections=["attendance"],
        period_start=date(2026, 11, 2),
        period_end=date(2026, 11, 15),
    )
    # --- end #19 (letters)
    # --- #19 (labs)
    from tests.labs._access_fixtures import held_message

    w.lab_message = held_message(patient, w.collector, director)
    # --- end #19 (labs)
    w.outsiders = {}

    def outsider(role: str):
        if role not in w.outsiders:
            w.outsiders[role] = make_staff(f"outsider_{role}", role, sites=[other_site])
        return w.outsiders[role]

    w.outsider = outsider
    return w


def _request(client, route: ObjectRoute, name: str, w):
    url = reverse(name, kwargs=route.kwargs(w))
    return getattr(client, route.method)(url)


@pytest.mark.parametrize("name", sorted(OBJECT_ROUTES))
def test_owner_and_colleague_get_in(client, world, name):
    route = OBJECT_ROUTES[name]
    for who in filter(None, (route.owner, route.colleague)):
        client.force_login(getattr(world, who))
        response = _request(client, route, name, world)
        # 422: the empty form was refused on its merits, after access was granted.
        assert response.status_code in (200, 302, 422), (name, who, response.status_code)


@pytest.mark.parametrize("name", sorted(OBJECT_ROUTES))
def test_staff_of_another_site_gets_404_and_is_audited(client, world, name):
    route = OBJECT_ROUTES[name]
    if route.portal:
        outsider = world.outsider("counselor")
        client.force_login(outsider)
        # A patient's own page: staff are refused by role, learning nothing of the object.
        assert _request(client, route, name, world).status_code in (403, 404)
        return
    outsider = world.outsider(getattr(world, route.owner).role)
    if outsider.staff.sees_all_sites:
        pytest.skip("the director sees every site")
    client.force_login(outsider)
    assert _request(client, route, name, world).status_code == 404
    assert AuditEvent.objects.filter(actor=outsider, outcome="denied").exists()


@pytest.mark.parametrize("name", sorted(OBJECT_ROUTES))
def test_another_patient_gets_404_and_is_audited(client, world, name):
    route = OBJECT_ROUTES[name]
    client.force_login(world.other_patient.user)
    assert _request(client, route, name, world).status_code == 404
    assert AuditEvent.objects.filter(actor=world.other_patient.user, outcome="denied").exists()
