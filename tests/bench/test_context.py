"""The page benchmark's context: session cookies that authenticate without a login, the
privacy middleware's login timestamp, and a path for every benchmarked page."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

pytestmark = pytest.mark.django_db


def test_a_bench_session_authenticates_without_a_login(counselor):
    from bench.context import session_for
    from privacy.models import UserSession
    from privacy.signals import AUTH_AT

    key = session_for(counselor)
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = key
    response = client.get("/patients/")
    assert response.status_code == 200
    assert response.wsgi_request.user == counselor
    assert AUTH_AT in client.session
    assert UserSession.objects.filter(session_key=key, user=counselor).exists()


@pytest.mark.urls("bench.urls")  # the signed-in floor is served by the bench's URLs only
def test_build_context_gives_every_page_a_path_and_a_query_count():
    from bench.context import build_context
    from bench.pages import PAGES
    from bench.scale import ScaleContext
    from bench.scale.patients import seed_patients
    from core.demo import seed_core
    from scheduling import demo as scheduling_demo

    core = seed_core("bench-password-2026", timezone.now())
    scheduling_demo.seed_setup(core)
    seed_patients(ScaleContext(core, 40, 2, timezone.localdate()))
    ctx = build_context()
    assert set(ctx["cookies"]) == {"counselor", "director", "collector", "patient"}
    for name, _, _ in PAGES:
        assert ctx["checks"][name]["status"] == 200, name
        assert ctx["queries"][name] > 0
