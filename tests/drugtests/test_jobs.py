from datetime import datetime, time, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from drugtests.models import Draw, Outcome, Selection, SiteTestingSettings, TestAlert
from drugtests.services.collection import specimen_collect
from drugtests.services.results import selections_mark_missed
from drugtests.tasks import mark_missed_after_deadline, run_due_draws
from tests.conftest import SCENARIO_NOW

from .conftest import MONDAY, NOW, NY

pytestmark = [pytest.mark.frozen(SCENARIO_NOW), pytest.mark.django_db]
AFTER_DEADLINE = datetime.combine(MONDAY, time(17, 1), tzinfo=NY)


def test_deadline_job_marks_uncollected_missed_with_alert(selected):
    assert selections_mark_missed(now=AFTER_DEADLINE) == 1
    selected.refresh_from_db()
    assert (selected.status, selected.outcome) == ("missed", Outcome.MISSED)
    assert TestAlert.objects.get().kind == TestAlert.Kind.MISSED


def test_deadline_job_leaves_tests_before_deadline(selected):
    assert selections_mark_missed(now=AFTER_DEADLINE - timedelta(minutes=2)) == 0
    selected.refresh_from_db()
    assert selected.status == "pending"


def test_deadline_job_rerun_changes_nothing(selected):
    mark_missed_after_deadline(AFTER_DEADLINE.isoformat())
    first = Selection.objects.get().status_changed_at
    assert mark_missed_after_deadline((AFTER_DEADLINE + timedelta(minutes=5)).isoformat()) == 0
    assert Selection.objects.get().status_changed_at == first
    assert TestAlert.objects.count() == 1


def test_deadline_job_leaves_collected_alone(selected, collector):
    specimen_collect(
        actor=collector,
        selection=selected,
        chain_of_custody_id="C1",
        method="lab",
        observed=False,
        temperature_in_range=True,
        now=NOW,
    )
    assert selections_mark_missed(now=AFTER_DEADLINE) == 0
    assert Selection.objects.get().status == "collected"


def test_beat_draws_only_after_site_draw_time(patient, always_policy, site):
    SiteTestingSettings.objects.create(site=site, draw_time=time(7, 30))
    before = datetime.combine(MONDAY, time(7, 0), tzinfo=NY)
    assert run_due_draws(before.isoformat()) == 0
    after = datetime.combine(MONDAY, time(7, 35), tzinfo=NY)
    assert run_due_draws(after.isoformat()) == 1
    assert run_due_draws((after + timedelta(minutes=5)).isoformat()) == 0
    draw = Draw.objects.get()
    assert (draw.date, draw.trigger) == (MONDAY, "beat")


def test_beat_uses_each_sites_local_day(make_patient, always_policy, site, other_site):
    from drugtests.models import TestingPolicy

    TestingPolicy.objects.create(site=other_site, name="West", frequency=1, panel=["thc"])
    # 06:30 in New York is 03:30 in Los Angeles: only the eastern site is due.
    at = datetime.combine(MONDAY, time(6, 30), tzinfo=NY)
    assert run_due_draws(at.isoformat()) == 1
    assert list(Draw.objects.values_list("site__code", flat=True)) == ["north"]


def test_beat_skips_disabled_site(patient, always_policy, site):
    SiteTestingSettings.objects.create(site=site, draws_enabled=False)
    assert run_due_draws(NOW.isoformat()) == 0


def _call(*args):
    out = StringIO()
    call_command("draw_tests", *args, stdout=out)
    return out.getvalue()


def test_draw_command_second_run_says_already_drawn(patient, always_policy):
    past_monday = (MONDAY - timedelta(days=7)).isoformat()  # the command uses the real clock
    first = _call("--site", "north", "--date", past_monday)
    assert "drew 1 of 1 eligible" in first
    second = _call("--site", "north", "--date", past_monday)
    assert "already drawn" in second and "nothing changed" in second
    assert Draw.objects.count() == 1 and Selection.objects.count() == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--site", "nowhere"], "No active site with code 'nowhere'"),
        (["--date", "2026-02-30"], "is not a date"),
        (["--date", "tomorrow"], "is not a date"),
        (["--site", "north", "--date", "2999-01-01"], "future day"),
    ],
)
def test_draw_command_bad_arguments_one_line(site, args, message):
    with pytest.raises(CommandError, match=message) as exc:
        _call(*args)
    assert "\n" not in str(exc.value) and exc.value.returncode != 0


def test_late_draw_leaves_minimum_notice_before_missed(patient, always_policy, site):
    from drugtests.services.random_draw import draw_run

    # 16:00 + 3 h would pass the 18:00 closing: the test is for the next clinic day
    # (it used to be due at 19:00, after the clinic had closed).
    late = datetime.combine(MONDAY, time(16, 0), tzinfo=NY)
    draw_run(site=site, on=MONDAY, now=late)
    assert selections_mark_missed(now=AFTER_DEADLINE) == 0
    tuesday = MONDAY + timedelta(days=1)
    assert Selection.objects.get().deadline == datetime.combine(tuesday, time(17, 0), tzinfo=NY)


@pytest.mark.parametrize("command", ["draw_tests", "verify_draws"])
def test_unknown_option_is_one_line_and_non_zero(command):
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "manage.py", command, "--bogus"],
        cwd=root,
        env={**os.environ, "DEBUG": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert done.stderr.strip() == f"{command}: unrecognized arguments: --bogus"
