"""The benchmark seeder's drug-testing and recovery hooks, and the page benchmark's
context builder, at a small size (40 patients x 2 weeks), so CI keeps them working."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone

from core.clock import site_today
from drugtests.models import (
    AnalyteResult,
    Draw,
    Outcome,
    Selection,
    Specimen,
    TestAlert,
    TestResult,
)
from drugtests.verification import verify_draws
from recovery.models import (
    HomeworkAssignment,
    HomeworkStatus,
    HomeworkSubmission,
    Meeting,
    MeetingStatus,
)

pytestmark = [
    pytest.mark.django_db,
    # The hooks write history with PostgreSQL's unnest() and COPY, as the benchmark does.
    pytest.mark.skipif(connection.vendor != "postgresql", reason="benchmark data needs PostgreSQL"),
]


@pytest.fixture
def scaled():
    from bench.scale import ScaleContext
    from bench.scale.drugtests import seed_scale as drug_scale
    from bench.scale.patients import seed_patients
    from bench.scale.recovery import seed_scale as recovery_scale
    from core.demo import seed_core
    from drugtests import demo as drug_demo
    from recovery import demo as recovery_demo
    from scheduling import demo as scheduling_demo

    core = seed_core("bench-password-2026", timezone.now())
    for demo in (scheduling_demo, drug_demo, recovery_demo):
        demo.seed_setup(core)
    ctx = ScaleContext(core, 40, 2, timezone.localdate())
    seed_patients(ctx)
    drug_scale(ctx)
    recovery_scale(ctx)
    return ctx


def test_every_site_has_a_draw_per_day_and_the_chains_verify(scaled):
    days = (scaled.today - scaled.start).days
    for site in scaled.sites:
        assert Draw.objects.filter(site=site).count() >= days
    *problems, checked = verify_draws()
    assert problems == []
    assert checked == Draw.objects.count()


@pytest.mark.date_sensitive
def test_past_selections_are_collected_refused_or_missed(scaled):
    # "Past" is each site's own yesterday: in the evening in California it is already
    # tomorrow in UTC, and that site's selections of today are rightly still pending.
    before_today = Q()
    for site in scaled.sites:
        before_today |= Q(site=site, date__lt=site_today(site, scaled.now))
    past = Selection.objects.filter(before_today)
    assert past.count() > 5  # fewer over the year-end holidays
    assert not past.filter(status=Selection.Status.PENDING).exists()
    collected = past.filter(status=Selection.Status.COLLECTED)
    assert collected.count() > past.count() / 2
    assert Specimen.objects.filter(selection__in=collected).count() == collected.count()
    assert not collected.filter(outcome="").exists()
    missed = past.filter(status=Selection.Status.MISSED)
    assert set(missed.values_list("outcome", flat=True)) <= {Outcome.MISSED}
    assert TestAlert.objects.filter(kind=TestAlert.Kind.MISSED).count() == missed.count()


def test_each_result_has_a_reading_for_every_analyte_of_the_panel(scaled):
    results = TestResult.objects.select_related("specimen__selection__policy")
    assert results.count() == Specimen.objects.count()
    counts = dict(
        AnalyteResult.objects.values("result_id")
        .annotate(n=Count("pk"))
        .values_list("result_id", "n")
    )
    for result in results:
        assert counts[result.pk] == len(result.specimen.selection.policy.panel)


def test_prescribed_buprenorphine_reads_as_expected_positive(scaled):
    on_bup = AnalyteResult.objects.filter(
        analyte="buprenorphine", result__prescribed__contains=["buprenorphine_naloxone"]
    )
    assert on_bup.exists()
    assert set(on_bup.values_list("interpretation", flat=True)) <= {
        "expected_positive",
        "prescribed_absent",
    }


def test_each_site_has_its_draw_for_today_made_in_the_morning(scaled):
    for site in scaled.sites:
        today = site_today(site, scaled.now)
        draw = Draw.objects.get(site=site, date=today)
        assert draw.created_at <= scaled.now
        assert timezone.localtime(draw.created_at, site.tz).hour <= 6 or (
            draw.created_at == scaled.now
        )


@pytest.fixture
def scaled_all_drawn(monkeypatch, request):
    """The same clinic with every eligible patient drawn every day: the real draw picks a
    handful at random (none or one, some days), too few for a test of how a day is split."""
    from drugtests import draws

    monkeypatch.setattr(draws, "is_selected", lambda u, num, den: True)
    return request.getfixturevalue("scaled")


@pytest.mark.frozen("2026-11-18T10:00:00-05:00")
def test_an_open_site_has_half_of_todays_tests_collected_by_mid_morning(scaled_all_drawn):
    scaled = scaled_all_drawn
    riverside = next(s for s in scaled.sites if s.time_zone == "America/New_York")
    today = Selection.objects.filter(site=riverside, date=site_today(riverside, scaled.now))
    drawn = today.count()
    collected = today.filter(status=Selection.Status.COLLECTED)
    assert drawn >= 10
    assert collected.count() == drawn // 2
    assert today.filter(status=Selection.Status.PENDING).count() == drawn - drawn // 2
    opens = timezone.make_aware(
        timezone.datetime.combine(site_today(riverside, scaled.now), riverside.opens_at),
        riverside.tz,
    )
    for specimen in Specimen.objects.filter(selection__in=collected):
        assert opens <= specimen.collected_at <= scaled.now


@pytest.mark.frozen("2026-11-18T10:00:00-05:00")
def test_a_site_not_yet_open_has_todays_tests_all_pending(scaled_all_drawn):
    scaled = scaled_all_drawn
    # 07:00 in California: Bayview opens at 08:00.
    bayview = next(s for s in scaled.sites if s.time_zone == "America/Los_Angeles")
    today = Selection.objects.filter(site=bayview, date=site_today(bayview, scaled.now))
    assert not today.exclude(status=Selection.Status.PENDING).exists()


def test_meetings_obey_the_review_rules(scaled):
    meetings = Meeting.objects.all()
    assert meetings.count() > 40
    assert not meetings.filter(held_at__gt=scaled.now).exists()
    for m in meetings:
        assert m.logged_at >= m.held_at
        assert (m.status == MeetingStatus.PENDING) == (m.reviewed_at is None)
    statuses = set(meetings.values_list("status", flat=True))
    assert {MeetingStatus.PENDING, MeetingStatus.VERIFIED} <= statuses


def test_homework_submissions_follow_the_review_cycle(scaled):
    assert HomeworkAssignment.objects.count() >= 40
    for a in HomeworkAssignment.objects.prefetch_related("submissions"):
        rounds = sorted(a.submissions.all(), key=lambda s: s.round)
        awaiting = [s for s in rounds if s.reviewed_at is None]
        assert len(awaiting) <= 1
        if a.status == HomeworkStatus.ACCEPTED:
            assert rounds and rounds[-1].outcome == "accepted"
        elif a.status == HomeworkStatus.SUBMITTED:
            assert awaiting
        elif a.status == HomeworkStatus.ASSIGNED:
            assert not rounds


def test_running_the_hooks_again_adds_nothing(scaled):
    from bench.scale.drugtests import seed_scale as drug_scale
    from bench.scale.recovery import seed_scale as recovery_scale

    before = (
        Draw.objects.count(),
        Specimen.objects.count(),
        Meeting.objects.count(),
        HomeworkSubmission.objects.count(),
    )
    drug_scale(scaled)
    recovery_scale(scaled)
    after = (
        Draw.objects.count(),
        Specimen.objects.count(),
        Meeting.objects.count(),
        HomeworkSubmission.objects.count(),
    )
    assert after == before
