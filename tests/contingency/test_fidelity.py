"""The CM fidelity report: tests per week per patient enrolled, share rewarded, amount per
test by step, patients near a cap, rewards not reconciled; director only, CSV export,
query count independent of the number of episodes."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contingency.services.ledger import reward_issue

from . import _screens_fixtures as fx

D = Decimal


@pytest.fixture
def cm_program(site):
    return fx.make_program(site)


def period(today):
    return {"start": (today - timedelta(days=56)).isoformat(), "end": today.isoformat()}


def rows_of(response):
    return response.context["result"].rows


def enrolled(make_patient, cm_program, counselor, today, days_ago=56):
    patient = make_patient()
    return fx.enrol(patient, cm_program, counselor, starts_on=today - timedelta(days=days_ago))


def test_tests_per_week_and_share_rewarded(
    client, director, counselor, make_patient, cm_program, today
):
    # Eight weeks: one patient tested twice a week (16 tests), one once in the period.
    regular = enrolled(make_patient, cm_program, counselor, today)
    start = today - timedelta(days=55)
    for i in range(16):
        day = start + timedelta(days=3 * i + (i % 2))
        if i == 5:
            fx.add_result(regular, day, earned=None, step=6, reason="positive")
        else:
            fx.add_result(regular, day, earned=D("10.00"), step=1)
    rare = enrolled(make_patient, cm_program, counselor, today)
    fx.add_result(rare, start, earned=D("10.00"), step=1)
    client.force_login(director)
    response = client.get(reverse("reports:detail", args=["cm-fidelity"]), period(today))
    rows = rows_of(response)
    mean = next(r for r in rows if r[0] == "Tests per week")
    assert mean[2] == 2
    below = [r for r in rows if r[0] == "Below one test a week"]
    assert [r[1] for r in below] == [rare.patient.display_name]
    share = next(r for r in rows if r[0] == "Share of tests rewarded")
    assert share[2] == 17
    assert share[4].startswith("94.1% (16 rewarded)")


def test_amount_per_test_by_step(client, director, counselor, make_patient, cm_program, today):
    for _ in range(2):
        episode = enrolled(make_patient, cm_program, counselor, today)
        fx.earn_run(episode, today - timedelta(days=20), ["10.00", "11.50"])
    client.force_login(director)
    rows = rows_of(client.get(reverse("reports:detail", args=["cm-fidelity"]), period(today)))
    steps = [r for r in rows if r[0] == "Amount per test by step"]
    assert steps == [
        ["Amount per test by step", "step 1", 2, "20.00", "$10.00 a test"],
        ["Amount per test by step", "step 2", 2, "23.00", "$11.50 a test"],
    ]


def test_patients_near_a_cap_are_listed(client, director, counselor, make_patient, site, today):
    program = fx.make_program(site, episode_cap=D("40.00"))
    near = fx.enrol(make_patient(), program, counselor, starts_on=today - timedelta(days=30))
    fx.earn_run(near, today - timedelta(days=20), ["10.00", "11.50", "13.00"])  # 34.50 < 36
    far = fx.enrol(make_patient(), program, counselor, starts_on=today - timedelta(days=30))
    fx.earn_run(far, today - timedelta(days=20), ["10.00"])
    fx.add_result(near, today - timedelta(days=5), earned=D("3.50"), step=4)  # 38.00 >= 36
    client.force_login(director)
    rows = rows_of(client.get(reverse("reports:detail", args=["cm-fidelity"]), period(today)))
    listed = [r for r in rows if r[0] == "At or near a cap"]
    assert [r[1] for r in listed] == [near.patient.display_name]
    assert "episode $38.00 of $40.00" in listed[0][4]


def test_unreconciled_rewards_counted_with_the_oldest(
    client, director, counselor, make_patient, cm_program, today, test_now
):
    episode = enrolled(make_patient, cm_program, counselor, today)
    fx.earn_run(episode, today - timedelta(days=20), ["10.00", "11.50"])
    reward_issue(
        actor=counselor,
        cm_enrollment=episode,
        amount=D("5"),
        reward_ref="A",
        now=test_now - timedelta(days=4),
    )
    reward_issue(actor=counselor, cm_enrollment=episode, amount=D("6"), reward_ref="B")
    client.force_login(director)
    rows = rows_of(client.get(reverse("reports:detail", args=["cm-fidelity"]), period(today)))
    line = next(r for r in rows if r[0] == "Rewards not reconciled")
    assert line[2:] == [2, "11.00", f"oldest {(today - timedelta(days=4)).isoformat()}"]


def test_the_csv_has_the_same_table(client, director, counselor, make_patient, cm_program, today):
    enrolled(make_patient, cm_program, counselor, today)
    client.force_login(director)
    response = client.get(
        reverse("reports:detail", args=["cm-fidelity"]), {**period(today), "format": "csv"}
    )
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert table[0] == ["measure", "group", "count", "amount", "detail"]
    assert table[-1][0] == "Rewards not reconciled"


def test_the_report_is_the_directors(client, counselor):
    client.force_login(counselor)
    assert client.get(reverse("reports:detail", args=["cm-fidelity"])).status_code == 403


def test_the_query_count_does_not_grow_with_the_episodes(
    client, director, counselor, make_patient, cm_program, today
):
    client.force_login(director)
    url = reverse("reports:detail", args=["cm-fidelity"])
    counts = []
    for size in (3, 30):
        while cm_program.enrollments.count() < size:
            episode = enrolled(make_patient, cm_program, counselor, today)
            fx.earn_run(episode, today - timedelta(days=20), ["10.00"])
        client.get(url, period(today))  # the session's first page writes what later ones read
        with CaptureQueriesContext(connection) as seen:
            assert client.get(url, period(today)).status_code == 200
        counts.append(len(seen))
    # The reports page's own queries and the report's four (episodes with their last
    # line, tests per episode, amounts by step, rewards not reconciled).
    assert counts[0] == counts[1] <= 12
