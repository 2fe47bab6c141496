"""What the page benchmark needs from a seeded database, built in-process:

- a session cookie per bench user, made directly in the session store (no login round
  trip, no password hashing), carrying what a real login leaves there: the auth keys, the
  privacy middleware's login timestamp, and the UserSession row;
- the path of every page in ``bench.pages.PAGES``;
- the queries each page runs per request, counted with the test client on a warm request.

Called by ``bench/pages.py`` in a child process with the bench environment:
``django.setup()`` then ``build_context()`` (returns a JSON-able dict).
"""

from __future__ import annotations

import time
from importlib import import_module

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

USERS = {
    "counselor": "counselor",
    "director": "director",
    "collector": "collector",
    "patient": "scale_patient1",
}


def session_for(user) -> str:
    from privacy.models import UserSession
    from privacy.signals import AUTH_AT

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = user._meta.pk.value_to_string(user)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store[AUTH_AT] = time.time()
    store.create()
    UserSession.objects.get_or_create(session_key=store.session_key, defaults={"user": user})
    return store.session_key


def _paths(users) -> dict[str, object]:
    from patients.access import patients_visible_to
    from patients.models import Patient
    from scheduling.models import Session, SessionStatus

    counselor = users["counselor"]
    now = timezone.now()
    patient = (
        Patient.objects.filter(primary_counselor=counselor, enrollments__status="active")
        .order_by("pk")
        .first()
    )
    site = patient.site
    visible = patients_visible_to(counselor)
    session = (
        Session.objects.filter(
            site=site,
            track__isnull=False,
            ends_at__lte=now,
            status=SessionStatus.SCHEDULED,
            attendance__patient__in=visible,
        )
        .order_by("-starts_at")
        .first()
    )
    collector_site = users["collector"].staff.sites.order_by("pk").first()
    return {
        "patient_id": patient.pk,
        "caseload_size": Patient.objects.filter(
            primary_counselor=counselor, enrollments__status="active"
        ).count(),
        "session_id": session.pk if session else None,
        # Without a seeded scheduling history the page still exists: the next session.
        "attendance_path": f"/scheduling/sessions/{(session or _any_session(site)).pk}/",
        # The group-note screen of the same held session (signed at scale: seed_scale
        # writes the last weeks' group notes), or of the next one when nothing was held.
        "group_note_path": f"/records/sessions/{(session or _any_session(site)).pk}/group-note/",
        "compliance_path": f"/scheduling/compliance/?site={site.pk}",
        "drugtests_path": f"/drugtests/?site={collector_site.pk}",
        "portal_schedule_path": "/scheduling/portal/schedule/",
        **_measure_paths(patient),
    }


def _measure_paths(patient) -> dict[str, object]:
    """The bench patient's open check-in (seed_scale makes one due) and the CM episode of
    the counselor's chart patient (seed_scale enrols part of the caseload)."""
    from contingency.models import CMEnrollment
    from measures.models import Administration

    sitting = (
        Administration.objects.filter(
            patient__user__username=USERS["patient"], status__in=["due", "in_progress"]
        )
        .order_by("pk")
        .first()
    )
    episode = (
        CMEnrollment.objects.filter(patient=patient).order_by("-pk").first()
        or CMEnrollment.objects.order_by("pk").first()
    )
    return {
        "checkin_path": (
            f"/measures/checkins/{sitting.pk}/q/1/" if sitting else "/measures/checkins/"
        ),
        "cm_episode_path": f"/contingency/episodes/{episode.pk}/" if episode else "/contingency/",
    }


def _any_session(site):
    from scheduling.models import Session

    return Session.objects.filter(site=site, track__isnull=False).order_by("starts_at").first()


def count_queries(cookie: str, path: str) -> dict:
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = cookie
    first = client.get(path, secure=True)  # warms caches, renews the session
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path, secure=True)
    return {
        "status": response.status_code,
        "first_status": first.status_code,
        "queries": len(ctx.captured_queries),
        "bytes": len(response.content),
    }


def build_context() -> dict:
    from bench.pages import PAGES
    from core.models import User

    users = {key: User.objects.get(username=name) for key, name in USERS.items()}
    sessions = {key: session_for(user) for key, user in users.items()}
    ctx: dict = {
        # The instant the pages were served at (bench/clock.py pins the clinic weekday).
        "now": timezone.now().isoformat(),
        "cookies": {key: f"{settings.SESSION_COOKIE_NAME}={s}" for key, s in sessions.items()},
    }
    ctx.update(_paths(users))
    ctx["queries"], ctx["checks"] = {}, {}
    for name, user, path in PAGES:
        measured = count_queries(sessions[user], path(ctx))
        ctx["queries"][name] = measured["queries"]
        ctx["checks"][name] = measured
        if measured["status"] != 200:
            raise SystemExit(f"{name} ({path(ctx)}) answered {measured['status']} for {user}")
    return ctx
