"""Hostile input, walked over every form the URLconf exposes, for every role.

How the walk works (one walk per run, shared by the tests below; measured on 2026-11-27 on
the 2-core machine, otherwise nearly idle: 175 seconds, 150 CPU seconds, 1,520 posts and
1,200 GETs, about 70 ms of the app's own work each, seeding 17 s, the crawl 28 s):

- Data: the demo clinic (``core.demo.seed_all``, the seeder ``make run`` uses), which has
  objects in every state (holds, discharges, homework at each status, draws, results,
  alerts), plus a small second organisation (a site, a track, a director and a patient)
  whose ids are the "another organisation's object" values, and what the demo lacks
  (``_add_states_the_demo_lacks``): a change dated ahead (its cancel form), an
  unreviewed break-glass grant (the review form) and a password reset link (the
  set-password form), the last two for accounts of their own that no role walks. All of
  it inside one transaction rolled back at the end; the clock frozen at the suite's
  instant.
- Roles: director, counselor, medical (nurse), front desk, collector and a portal patient,
  each with Django's test client (the director with two-step verification set up and
  passed, so its backup-code pages are walked too; the director never resets the
  verification of a walked account, which would end that role's session;
  ``raise_request_exception=False``: a view that raises
  answers 500 as in production and the walker records it). Every request runs inside a
  savepoint, rolled back when it answered 500, so a database error outside a view's own
  atomic block does not abort the rest of the walk.
- Discovery: each role's pages, crawled by links from the home page (at most a few URLs
  of one view: the week links lead back forever; the director up to eight, fewer once
  two of a view's pages showed no form or linked view not seen before, and starts at
  the pages that show a form only in some states), then the URLconf's routes no link
  reached, their path parameters filled from values seen in crawled URLs of the same app.
  Every ``<form>`` of every page is parsed (stdlib ``html.parser``): inputs, selects,
  textareas, named submit buttons.
- Mutation: each form's valid values are the baseline (what the page shows, or a plausible
  value by type and name); one field at a time takes each hostile kind that fits it
  (script tags, SQL-ish text, 100,000 characters, a NUL byte, emoji and right-to-left
  text everywhere; negative and huge numbers outside text areas; 2026-02-30, 0001-01-01
  and 9999-12-31 in the date and time fields; another organisation's id in the id
  fields; an MZ executable named .pdf, an ELF named .jpg and a script tag as a file name
  in file fields), then every field at once with a few kinds. Thinned to keep the walk
  short: each field gets another organisation's id when it fits and, if it is free text,
  a script tag; every other kind that fits the form goes into one of its fields, so each
  fitting kind is posted once per form. A form seen before (same view, same fields) by
  any role gets only its baseline and one every-field variant, a different kind for
  each role.
  GET forms (filters) are submitted the same way.
- Other objects: every role posts to the forms of the other organisation's chart, the
  counselor to the other site's, the patient to another patient's: each must be refused.
  The other organisation's rows must be unchanged at the end.
- POST-only routes no page links to get each kind under common field names.
- Checks: no response is a 5xx; the raw script marker never comes back unescaped in an
  HTML page; after every accepted post (a redirect) its target and the home page still
  answer, and at the end every page each role had crawled answers again.
- Coverage: every POST route of the URLconf was posted past its access check, and every
  form class of the apps was bound to submitted data, except the short allow-list below
  (each with its reason). A new form or route fails here until the walk reaches it.

The figures (forms, posts, kinds, per role, elapsed) are printed (``-s`` shows them).
"""

from __future__ import annotations

import logging
import sys
import time
from collections import Counter
from contextlib import ExitStack
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
import time_machine
from django.apps import apps as django_apps
from django.db import transaction
from django.test import Client, override_settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from tests.conftest import TEST_NOW
from tests.hostile.walker import (
    ALL_FIELD_KINDS,
    KINDS,
    SCRIPT,
    TEXT_KINDS,
    BoundFormLog,
    ExceptionLog,
    Form,
    Stats,
    Walker,
    baseline,
    mutations,
    post_routes,
    project_form_classes,
    view_name,
)
from tests.privacy.urlwalk import iter_routes

# Marked so that pytest-django sets the test database up; the walk holds its own
# transaction across the tests of this module.
# One group under pytest-xdist: the walk (a module fixture) is made once, by one worker.
pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("hostile-walk")]

APPS = (
    "core",
    "patients",
    "scheduling",
    "privacy",
    "drugtests",
    "recovery",
    "records",  # #17, the clinical record
    "contingency",  # #18, contingency management
    "measures",  # #18, measurement-based care
    "exchange",  # #19, FHIR out
    "labs",  # #19, lab results in (HL7)
    "notifications",
    "alerts",  # #20, the alert queue's rows (acknowledge, snooze: forms on the staff home)
    "dashboard",
    "reports",
    "letters",  # #19, compliance letters and the patient's record
)
ROLES = {
    "director": "director",
    "counselor": "counselor",
    "medical": "nurse",
    "frontdesk": "frontdesk",
    "collector": "collector",
    "patient": "patient1",
}
# Never walked by the role clients: signing out would end the walk; the admin is
# Django's; files are downloads (walked as pages, not forms).
SKIP = ("/admin/", "/accounts/logout/", "/static/", "/healthz")

# POST routes the walk does not reach, each with its reason. (Login, logout and the admin
# are Django's own views, outside the apps: the login form is walked signed out.)
ROUTE_ALLOW = {
    "labs:inbound": (
        "a laboratory's HL7 endpoint: no session, no form, a bearer token instead; "
        "tests/labs/test_channels.py covers it"
    ),
    "notifications:sms_inbound": (
        "the SMS provider's webhook: no session, no form, a shared secret instead; "
        "tests/notifications/test_channels_and_preferences.py covers it"
    ),
}
# Form classes the walk does not bind, each with its reason.
FORM_ALLOW = {
    "AdminLoginForm": (
        "the login of Django's admin (under /admin/, which the walk leaves alone), "
        "superusers only; tests/core/test_lockout.py and tests/core/test_input_guard.py"
    ),
    "InboundSmsForm": (
        "the form of the SMS webhook (allow-listed above): signed by the provider, never "
        "a page; tests/notifications/test_sms_webhook.py"
    ),
    "HolidayAdminForm": (
        "a form of Django's admin (is_staff only), tested in tests/scheduling/test_admin.py"
    ),
}


def _make_outsider_org() -> dict[str, Any]:
    """Another organisation: its ids must never reach anything in the demo clinic."""
    from django.contrib.auth.models import Group

    from core.models import Organization, Role, Site, StaffProfile, User
    from core.roles import ensure_role_groups, role_group_name
    from patients.models import Track
    from patients.services.admission import patient_admit
    from patients.services.patient import patient_link_portal_account

    ensure_role_groups()
    org = Organization.objects.create(name="Elsewhere Health", mrn_prefix="EH")
    site = Site.objects.create(
        organization=org, name="Elsewhere", code="elsewhere", time_zone="America/Chicago"
    )
    users = {}
    for username, role in (("eh_director", Role.DIRECTOR), ("eh_counselor", Role.COUNSELOR)):
        user = User.objects.create_user(username=username, password="x-unused-x")
        profile = StaffProfile.objects.create(user=user, organization=org, role=role)
        profile.sites.set([site])
        user.groups.add(Group.objects.get(name=role_group_name(role)))
        users[username] = user
    track = Track.objects.create(
        site=site, name="Elsewhere IOP", kind="evening", level="2.1", capacity=10
    )
    enrollment = patient_admit(
        actor=users["eh_director"],
        site=site,
        legal_first_name="Outside",
        legal_last_name="Person",
        date_of_birth=date(1985, 3, 3),
        primary_substance="alcohol",
        level="2.1",
        track=track,
        counselor=users["eh_counselor"],
        admission_date=timezone.localdate(timezone.now(), site.tz) - timedelta(days=30),
    )
    patient = enrollment.patient
    portal = patient_link_portal_account(
        actor=None, patient=patient, username="eh_patient", password="x-unused-x"
    )
    return {
        "org": org,
        "site": site,
        "patient": patient,
        "director": users["eh_director"],
        "portal": portal,
        "ids": {
            "patient": patient.pk,
            "site": site.pk,
            "track": track.pk,
            "counselor": users["eh_counselor"].pk,
            "facilitator": users["eh_counselor"].pk,
            "user": users["eh_counselor"].pk,
        },
    }


def _add_states_the_demo_lacks() -> dict[str, Any]:
    """What the demo clinic lacks, and the pages that show it:

    - a change dated ahead (its cancel form shows only when one exists): its chart is a
      start of the director's crawl, which would otherwise meet it only by chance among
      the charts it opens;
    - an unreviewed break-glass grant (the director's "Mark reviewed" form), held by a
      counselor of its own who is never walked: a grant widens its holder's access, and
      the cross-site posts below rely on the walked counselor's and counselor2's;
    - a password reset link (its set-password form), for an account of its own that is
      never walked either (the reset ends the account's sessions)."""
    from django.contrib.auth.models import Group
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    from core.models import Organization, Role, Site, StaffProfile, User
    from core.roles import role_group_name
    from patients.models import Enrollment, Patient, ProgramPhase
    from patients.services.enrollment import enrollment_change_phase
    from privacy.services import break_glass_grant

    counselor = User.objects.get(username="counselor")
    enrollment = Enrollment.objects.filter(
        patient__site__code="riverside", discharge_date__isnull=True
    ).first()
    assert enrollment is not None
    phase = ProgramPhase.objects.filter(site=enrollment.patient.site).exclude(
        pk=enrollment.phase_id
    )[0]
    enrollment_change_phase(
        actor=counselor,
        enrollment=enrollment,
        phase=phase,
        effective_date=timezone.localdate() + timedelta(days=10),
    )

    organization = Organization.objects.get(sites__code="riverside")
    extra = {}
    for username, role in (("bg_counselor", Role.COUNSELOR), ("reset_nurse", Role.MEDICAL)):
        user = User.objects.create_user(
            username=username, password="x-unused-x", email=f"{username}@example.org"
        )
        profile = StaffProfile.objects.create(user=user, organization=organization, role=role)
        profile.sites.set([Site.objects.get(code="riverside")])
        user.groups.add(Group.objects.get(name=role_group_name(role)))
        extra[username] = user
    bayview_patient = Patient.objects.filter(site__code="bayview").first()
    assert bayview_patient is not None
    break_glass_grant(
        user=extra["bg_counselor"],
        patient=bayview_patient,
        reason="Walker: seen in the emergency room tonight",
    )
    reset = extra["reset_nurse"]
    reset_url = reverse(
        "privacy:password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(reset.pk)),
            "token": default_token_generator.make_token(reset),
        },
    )
    # Pages that show a form only in some states, the director's crawl starts (it opens
    # a few pages of each view, and would meet these only by chance): the change dated
    # ahead, an injectable medication running (stop it, set the next injection), the
    # outbox's sent rows (resend), a colleague's MFA reset.
    from patients.models import INJECTABLE_MEDICATIONS, MedicationOrder

    order = MedicationOrder.objects.filter(
        stop_date__isnull=True,
        medication__in=INJECTABLE_MEDICATIONS,
        patient__organization=organization,
    ).first()
    assert order is not None
    starts = [
        reverse("patients:chart", kwargs={"pk": enrollment.patient_id}),
        reverse("patients:chart", kwargs={"pk": order.patient_id}),
        reverse("notifications:outbox") + "?status=sent",
        # A colleague's MFA reset (it ends their sessions: an account nobody walks).
        reverse("privacy:mfa_reset", kwargs={"pk": reset.pk}),
    ]
    # #18: CM episodes with a balance and a reward to reconcile, and the enrol form.
    from tests.contingency._screens_fixtures import hostile_states

    starts.extend(hostile_states())
    starts.extend(_add_measures_states(counselor))
    starts.extend(_add_letters_states(counselor))
    return {"director_starts": starts, "reset_url": reset_url}


# Filled by _add_measures_states: pages the patient's crawl starts at besides "/".
PATIENT_STARTS: list[str] = []


def _add_letters_states(counselor: Any) -> list[str]:
    """#19: a letter and a batch of the walked counselor's (their pages, the PDF), and
    the pages that show the letter, batch and letterhead forms, as starts of the
    director's crawl (a patient with a consent covering a letter is one chart in four)."""
    from letters.services import letter_create, letters_batch_create
    from patients.models import Consent, Patient

    today = timezone.localdate()
    consent = next(
        c
        for c in Consent.objects.filter(
            patient__primary_counselor=counselor, revoked_on__isnull=True
        ).exclude(sections=[])
        if c.is_current(today)
    )
    patient: Patient = consent.patient
    letter = letter_create(
        actor=counselor,
        patient=patient,
        consent=consent,
        sections=consent.sections,
        period_start=today - timedelta(days=27),
        period_end=today,
    )
    batch = letters_batch_create(
        actor=counselor,
        counselor=counselor,
        recipient=consent.recipient,
        sections=consent.sections[:1],
        period_start=today - timedelta(days=13),
        period_end=today,
    )
    return [
        reverse("letters:patient", kwargs={"pk": patient.pk}),
        reverse("letters:new", kwargs={"pk": patient.pk, "consent_pk": consent.pk}),
        reverse("letters:letter", kwargs={"pk": letter.pk}),
        reverse("letters:batch", kwargs={"pk": batch.pk}),
        reverse("letters:letterhead", kwargs={"site_pk": patient.site_id}),
    ]


def _add_measures_states(counselor: Any) -> list[str]:
    """#18 (checkin): a PHQ-9 due for the walked patient (the portal home's invitation,
    the question, language and review forms) and a PHQ-9 with item 9 above 0 for a patient
    of the walked counselor (the urgent alert and its follow-up form). Returns the
    follow-up page, a start of the director's crawl."""
    from core.models import User
    from measures import instrument_data
    from measures.models import Administration, Instrument, InstrumentItem, SafetyEvent
    from measures.services.administrations import (
        administration_complete,
        administration_create,
        administration_start,
        answer_save,
        instrument_current,
    )
    from patients.models import OPEN_STATUSES, Patient

    instrument_data.load(Instrument, InstrumentItem, "phq9")
    phq9 = instrument_current("phq9")
    walked = User.objects.get(username=ROLES["patient"]).patient_record
    assert walked is not None
    today = timezone.localdate()
    administration_create(
        actor=None, patient=walked, instrument=phq9, reason="ad_hoc", due_on=today
    )
    walked_sitting = Administration.objects.get(
        patient=walked, instrument=phq9, status__in=["due", "in_progress"]
    )
    # The patient's crawl starts at the question and review pages too: from the portal
    # home the card's link is one of several check-in links (the demo makes a BAM due as
    # well) and the crawl opens at most two pages of a view.
    PATIENT_STARTS[:] = [
        reverse("measures:checkin_item", kwargs={"pk": walked_sitting.pk, "number": 1}),
        reverse("measures:checkin_review", kwargs={"pk": walked_sitting.pk}),
    ]
    patient = (
        Patient.objects.filter(primary_counselor=counselor, enrollments__status__in=OPEN_STATUSES)
        .exclude(pk=walked.pk)
        .first()
    )
    assert patient is not None
    sitting = administration_create(
        actor=counselor, patient=patient, instrument=phq9, reason="ad_hoc", due_on=today
    ) or Administration.objects.get(
        patient=patient, instrument=phq9, status__in=["due", "in_progress"]
    )
    sitting = administration_start(
        actor=counselor, administration=sitting, mode="with_staff", language="en"
    )
    for item in phq9.items.all():
        answer_save(
            actor=counselor, administration=sitting, item=item, value=1 if item.number == 9 else 0
        )
    administration_complete(actor=counselor, administration=sitting)
    event = SafetyEvent.objects.get(administration=sitting)
    return [reverse("measures:safety_followup", kwargs={"pk": event.pk})]


def _snapshot(org: Any) -> dict[str, list[dict[str, Any]]]:
    """Every row of the other organisation (by its site or its patient), audit aside."""
    from patients.models import Patient

    patients = list(Patient.objects.filter(organization=org).values_list("pk", flat=True))
    out = {}
    for model in django_apps.get_models():
        label = model._meta.label
        if label == "core.AuditEvent":
            continue
        names = {f.name for f in model._meta.get_fields() if f.is_relation and f.concrete}
        if "patient" in names:
            rows = model.objects.filter(patient__in=patients)
        elif "site" in names:
            rows = model.objects.filter(site__organization=org)
        elif "organization" in names:
            rows = model.objects.filter(organization=org)
        else:
            continue
        out[label] = list(rows.order_by("pk").values())
    return out


def progress(line: str) -> None:
    # Seen while the walk runs (pytest captures stdout until the module ends).
    sys.__stderr__.write(f"[hostile walk] {line}\n")
    sys.__stderr__.flush()


def _client(user: Any) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def _enrol_mfa(client: Client, user: Any) -> None:
    """Two-step verification set up and passed in this session, as a director who turned
    it on would be: the pages only such a user reaches (the backup codes, the verify step
    rather than the enrolment) are walked as the director; the other roles walk the
    enrolment page."""
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client.get(reverse("privacy:mfa"))
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(reverse("privacy:mfa"), {"token": f"{totp(device.bin_key):06d}"})
    assert response.status_code == 200, response.status_code
    assert TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def _fill_unlinked_routes(walker: Walker, pages_by_role: dict[str, dict[str, list[Form]]]) -> None:
    """GET the routes no crawl reached, their parameters taken from the links seen (the
    same argument name in the same app), trying a few until one shows a page."""
    seen_kwargs: dict[tuple[str, str], set[Any]] = {}
    for url in walker.links | {u for pages in pages_by_role.values() for u in pages}:
        match = _match(url)
        if match is None:
            continue
        app = match.view_name.split(":")[0]
        for key, value in match.kwargs.items():
            seen_kwargs.setdefault((app, key), set()).add(value)
    crawled = {view_name(u) for pages in pages_by_role.values() for u in pages}
    for route in iter_routes():
        app = route.name.split(":")[0]
        if route.name in crawled or app not in APPS or not route.kwargs:
            continue
        candidates = [sorted(seen_kwargs.get((app, k), ()), key=str) for k in route.kwargs]
        if not all(candidates):
            continue
        for role, pages in pages_by_role.items():
            found = False
            for i in range(min(8, max(len(c) for c in candidates))):
                kwargs = {k: c[i % len(c)] for k, c in zip(route.kwargs, candidates, strict=True)}
                try:
                    url = reverse(route.name, kwargs=kwargs)
                except NoReverseMatch:
                    continue
                if any(url.startswith(p) for p in SKIP):
                    break
                response, _ = walker.request(walker.clients[role], role, "get", url)
                if response.status_code in (403, 405):
                    break  # not this role's page, or not a page at all
                if response.status_code == 200:
                    more = walker.crawl(walker.clients[role], role, [url], per_view=1)
                    pages.update({u: f for u, f in more.items() if view_name(u) == route.name})
                    found = True
                    break
            if found:
                break


def _match(url: str) -> Any:
    from django.urls import Resolver404, resolve

    try:
        return resolve(urlsplit(url).path)
    except Resolver404:
        return None


@pytest.fixture(scope="module")
def walk(django_db_setup, django_db_blocker, tmp_path_factory):  # noqa: C901
    from core.demo import seed_all
    from core.models import User
    from patients.models import Patient

    stats = Stats()
    with ExitStack() as stack:
        stack.enter_context(django_db_blocker.unblock())
        # The test case's own transaction: durable blocks inside are allowed, as in
        # pytest-django's, and everything is rolled back at the end.
        atomic = transaction.atomic()
        atomic._from_testcase = True  # type: ignore[attr-defined]
        stack.enter_context(atomic)
        stack.enter_context(time_machine.travel(TEST_NOW, tick=True))
        media = tmp_path_factory.mktemp("private")
        stack.enter_context(override_settings(PRIVATE_MEDIA_ROOT=media))
        quiet = logging.getLogger("django.request")
        stack.callback(quiet.setLevel, quiet.level)
        quiet.setLevel(logging.CRITICAL)  # each 500 is collected, with its exception

        started = time.perf_counter()
        cpu_started = time.process_time()
        seed_all("walker-demo-password")
        added = _add_states_the_demo_lacks()
        other = _make_outsider_org()
        seeded = time.perf_counter() - started
        before = _snapshot(other["org"])
        progress(f"seeded in {seeded:.1f} s")

        errors = stack.enter_context(ExceptionLog())
        stack.enter_context(BoundFormLog(stats))
        walker = Walker(stats, errors, SKIP)
        users = {role: User.objects.get(username=name) for role, name in ROLES.items()}
        # A reset of a colleague's two-step verification ends their sessions: the
        # director resets only accounts nobody walks (bg_counselor, reset_nurse).
        walker.skip += tuple(
            reverse("privacy:mfa_reset", kwargs={"pk": user.pk})
            for user in User.objects.filter(username__in=[*ROLES.values(), "counselor2"])
        )
        walker.clients = {role: _client(user) for role, user in users.items()}
        _enrol_mfa(walker.clients["director"], users["director"])

        # 1. Discover: crawl each role's pages, then the routes no link reached.
        # The director sees every site: more objects of each view there find the forms
        # only some states show (a medication to stop, a change to cancel, a row to resend).
        pages_by_role = {
            role: walker.crawl(
                client,
                role,
                ["/", *added["director_starts"]]
                if role == "director"
                else ["/", *PATIENT_STARTS]
                if role == "patient"
                else ["/"],
                per_view=8 if role == "director" else 2,
                stale_after=2,
            )
            for role, client in walker.clients.items()
        }
        _fill_unlinked_routes(walker, pages_by_role)
        crawled = sum(len(p) for p in pages_by_role.values())
        progress(f"crawled {crawled} pages at {time.perf_counter() - started:.1f} s")

        # 2. Mutate every form, one field and one kind at a time. The same form on
        # another row or object (an alert's set-aside forms, an attendance row per patient)
        # is the same code: each role posts each form once; the first role to reach it
        # gets the single-field mutations (thinned: a script tag and another
        # organisation's id in each field, every other kind that fits the form in one of
        # its fields), the others the baseline and every-field ones.
        mutated: set[tuple[str, str]] = set()
        for index, (role, pages) in enumerate(pages_by_role.items()):
            client = walker.clients[role]
            progress(
                f"mutating as {role}: {stats.posts} posts so far, "
                f"{time.perf_counter() - started:.1f} s"
            )
            # A form another role mutated already: its baseline and one every-field
            # kind, a different one for each role (what a page echoes, and the code a
            # post runs, may differ by role).
            again = ALL_FIELD_KINDS[index % len(ALL_FIELD_KINDS)]
            posted: set[tuple[str, str]] = set()
            for page, forms in list(pages.items()):
                for form in forms:
                    view = view_name(form.action)
                    signature = (view, ",".join(sorted(form.fields)))
                    if any(form.path.startswith(p) for p in SKIP) or signature in posted:
                        continue
                    posted.add(signature)
                    stats.forms.add(signature)
                    stats.per_role[role]["forms"] += 1
                    first = signature not in mutated
                    mutated.add(signature)
                    # The first time: the form's own page and the home page after its
                    # baseline; each accepted post also opens the page it redirects to.
                    data, files = baseline(form)
                    after = [page, "/"] if first else []
                    walker.submit(client, role, form, data, files, "-", "baseline", after)
                    variants = mutations(form, other["ids"], thin=True)
                    if not first:
                        variants = [m for m in variants if m[0] == "*" and m[1] == again]
                    for field_name, kind, data, files in variants:
                        walker.submit(client, role, form, data, files, field_name, kind, [])

        progress(f"mutated at {time.perf_counter() - started:.1f} s, {stats.posts} posts")
        # The portal's language picker (patients:language, on every portal page) was posted
        # like any form, and a valid post switches patient1 to Spanish: pages walked since
        # were checked in Spanish (no 500, nothing unescaped), which is worth having. The
        # rest of the walk and its figures read the portal as the demo left it, in English.
        Patient.objects.filter(user__username=ROLES["patient"]).update(preferred_language="en")
        # 3. Other objects: another organisation's chart, another site's, another patient's.
        outsiders = {
            "eh_director": (other["director"], list(ROLES)),
            "counselor2": (User.objects.get(username="counselor2"), ["counselor", "frontdesk"]),
            "patient2": (User.objects.get(username="patient2"), ["patient"]),
            "eh_patient": (other["portal"], ["patient"]),
        }
        for name, (user, roles) in outsiders.items():
            foreign_pages = walker.crawl(_client(user), name, ["/"], per_view=2)
            targets = {}
            for forms in foreign_pages.values():
                for form in forms:
                    match_kwargs = _int_kwargs(form.action)
                    if form.method == "post" and match_kwargs and view_name(form.action) != "?":
                        targets.setdefault(view_name(form.action), form)
            for role in roles:
                client = walker.clients[role]
                for view, form in sorted(targets.items()):
                    data, files = baseline(form)
                    response = walker.submit(
                        client, role, form, data, files, "-", "other-object", []
                    )
                    stats.kinds["other-object"] += 1
                    if response.status_code not in (403, 404):
                        walker.finding(
                            "accepted-foreign", role, "post", form.path, view, "-",
                            f"{name}'s object", f"answered {response.status_code}",
                        )  # fmt: skip

        # 4. POST routes no form reached: each kind under the usual field names.
        routes = post_routes(APPS)
        posted_views = {
            view_name(f.action) for p in pages_by_role.values() for fs in p.values() for f in fs
        }
        for name, route in routes.items():
            if name in posted_views or name in ROUTE_ALLOW:
                continue
            urls = [u for u in _urls_for(route, pages_by_role) if walker.local(u)]
            for role, client in walker.clients.items():
                for url in urls[:1]:
                    for kind, value in TEXT_KINDS.items():
                        payload = dict.fromkeys(("id", "key", "note", "reason", "next"), value)
                        walker.request(
                            client, role, "post", url, data=payload, field_name="*", kind=kind
                        )
                        stats.kinds[kind] += 1

        # 5. The login form, signed out.
        # The reset link moves its token into the session and redirects to the form
        # (Django's PasswordResetConfirmView): followed once, then crawled.
        anonymous = Client(raise_request_exception=False)
        set_password, _ = walker.request(anonymous, "anonymous", "get", added["reset_url"])
        starts = ["/accounts/login/", set_password.get("Location", added["reset_url"])]
        login_pages = walker.crawl(anonymous, "anonymous", starts, per_view=1)
        for forms in login_pages.values():
            for form in forms:
                stats.forms.add((view_name(form.action), ",".join(sorted(form.fields))))
                for field_name, kind, data, files in mutations(form, other["ids"]):
                    walker.submit(anonymous, "anonymous", form, data, files, field_name, kind, [])

        # 6. Every page each role crawled answers again, after everything saved above.
        for role, pages in pages_by_role.items():
            client = walker.clients[role]
            # One page of each view: the same template over another object adds time,
            # not coverage.
            firsts = {view_name(page): page for page in reversed(list(pages))}
            for page in firsts.values():
                response, _ = walker.request(client, role, "get", page)
                if response.status_code >= 500:
                    walker.finding(
                        "later-get-500", role, "get", page, view_name(page), "-", "re-crawl"
                    )
                elif walker._to_login(response):
                    # Something the walk posted ended this role's session: what it
                    # posted after that tested the login page, not the forms.
                    walker.finding("signed-out", role, "get", page, view_name(page), "-", "-")

        project_forms = project_form_classes(APPS)
        after = _snapshot(other["org"])
        elapsed = time.perf_counter() - started
        result = {
            "stats": stats,
            "routes": routes,
            "project_forms": project_forms,
            "other_org_changed": sorted(k for k in after if after[k] != before.get(k)),
            "figures": {
                "seconds total": round(elapsed, 1),
                "CPU seconds of this process": round(time.process_time() - cpu_started, 1),
                "seconds seeding": round(seeded, 1),
                "pages crawled": crawled,
                "forms reached (distinct view and fields)": len(stats.forms),
                "form classes of the apps bound": (
                    f"{len(project_forms & stats.bound_forms)} of {len(project_forms)}"
                ),
                "POST routes reached": f"{len(set(routes) & stats.post_views)} of {len(routes)}",
                "POST requests": stats.posts,
                "GET requests": stats.gets,
                "GET form submissions": stats.form_gets,
                "accepted posts (redirects)": stats.accepted,
                "kinds": len(KINDS) + 2,  # + baseline, other-object
                "per kind": dict(stats.kinds),
                "seconds per kind (posts and the GETs after them)": {
                    k: round(v, 1) for k, v in stats.seconds.most_common()
                },
                "per role": {r: dict(c) for r, c in stats.per_role.items()},
            },
        }
        _print_figures(result)
        transaction.set_rollback(True)
    yield result


def _int_kwargs(url: str) -> dict[str, int]:
    from django.urls import Resolver404, resolve

    try:
        match = resolve(urlsplit(url).path)
    except Resolver404:
        return {}
    return {k: v for k, v in match.kwargs.items() if isinstance(v, int)}


def _urls_for(route: Any, pages_by_role: dict[str, dict[str, list[Form]]]) -> list[str]:
    from django.urls import resolve

    if not route.kwargs:
        return [reverse(route.name)]
    app = route.name.split(":")[0]
    values: dict[str, set[Any]] = {}
    for pages in pages_by_role.values():
        for url in pages:
            match = resolve(urlsplit(url).path)
            if match.view_name.split(":")[0] == app:
                for key, value in match.kwargs.items():
                    values.setdefault(key, set()).add(value)
    if not all(values.get(k) for k in route.kwargs):
        return []
    return [reverse(route.name, kwargs={k: min(values[k]) for k in route.kwargs})]


def _print_figures(result: dict[str, Any]) -> None:
    print("\nhostile-input walk:")
    for key, value in result["figures"].items():
        print(f"  {key}: {value}")
    findings = result["stats"].findings
    print(f"  findings: {len(findings)}")
    for line in sorted({f.line() for f in findings}):
        print(f"    {line}")


def _report(findings: list[Any], problem: str) -> list[str]:
    # One line per (problem, view, field, kind): the same defect seen by several roles
    # or on several objects is one line.
    lines: dict[tuple[str, str, str], str] = {}
    for f in findings:
        if f.problem == problem:
            lines.setdefault((f.view, f.field, f.kind), f.line())
    return sorted(lines.values())


# --- the tests ----------------------------------------------------------------------------


def test_hostile_input_never_gets_a_server_error(walk):
    lines = _report(walk["stats"].findings, "500")
    assert not lines, "\n".join(lines)


def test_hostile_input_never_comes_back_unescaped(walk):
    lines = _report(walk["stats"].findings, "unescaped")
    assert not lines, "\n".join(lines)


def test_pages_still_answer_after_every_accepted_post(walk):
    lines = _report(walk["stats"].findings, "later-get-500")
    assert not lines, "\n".join(lines)


def test_every_role_stays_signed_in_to_the_end(walk):
    lines = _report(walk["stats"].findings, "signed-out")
    assert not lines, "\n".join(lines)


def test_posts_on_other_organisations_patients_and_sites_are_refused(walk):
    lines = _report(walk["stats"].findings, "accepted-foreign")
    assert not lines, "\n".join(lines)


def test_nothing_of_another_organisation_changes(walk):
    assert walk["other_org_changed"] == []


def test_every_post_route_of_the_urlconf_is_reached(walk):
    missed = sorted(set(walk["routes"]) - walk["stats"].post_views - set(ROUTE_ALLOW))
    assert not missed, f"POST routes the walk did not reach: {missed}"


def test_every_form_class_of_the_apps_is_reached(walk):
    classes = walk["project_forms"]
    bound = walk["stats"].bound_forms
    # A base class is reached through its subclasses (e.g. the enrollment changes).
    bases = {c for c in classes if any(issubclass(o, c) and o is not c for o in classes)}
    missed = sorted(
        f"{c.__module__}.{c.__name__}"
        for c in classes - bound - bases
        if c.__name__ not in FORM_ALLOW and f"{c.__name__}@{c.__module__}" not in FORM_ALLOW
    )
    assert not missed, f"forms the walk did not reach: {missed}"


def test_the_allow_lists_name_only_real_routes_and_forms(walk):
    assert set(ROUTE_ALLOW) <= set(walk["routes"])
    names = {c.__name__ for c in walk["project_forms"]}
    names |= {f"{c.__name__}@{c.__module__}" for c in walk["project_forms"]}
    assert set(FORM_ALLOW) <= names


def test_the_walk_is_big_enough_to_mean_something(walk):
    figures = walk["figures"]
    assert figures["forms reached (distinct view and fields)"] >= 40
    assert figures["POST requests"] >= 1000
    assert set(walk["stats"].kinds) >= {*KINDS, *ALL_FIELD_KINDS, "baseline"}
    assert SCRIPT in TEXT_KINDS.values()
    assert Counter(walk["stats"].per_role).keys() >= set(ROLES)
