"""The staff CM screens: the episode's ledger in words, handing out and reconciling a
reward, enrolment and the end of an episode from the chart; database state after each
post; owner, colleague and outsider for each rule."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from contingency.models import CMEnrollment, LedgerEntry
from core.models import AuditEvent

from . import _screens_fixtures as fx

D = Decimal


@pytest.fixture
def cm_program(site):
    return fx.make_program(site)


@pytest.fixture
def cm_episode(patient, cm_program, counselor, today):
    return fx.enrol(patient, cm_program, counselor, starts_on=today - timedelta(days=30))


@pytest.fixture
def earned(cm_episode, today):
    # Four negatives: $10.00, $11.50, $13.00, $14.50 = $49.00.
    return fx.earn_run(cm_episode, today - timedelta(days=28), ["10.00", "11.50", "13.00", "14.50"])


def episode_url(episode):
    return reverse("contingency:episode", args=[episode.pk])


def test_the_ledger_reads_in_words_with_the_test_linked(client, counselor, cm_episode, earned):
    client.force_login(counselor)
    response = client.get(episode_url(cm_episode))
    assert response.status_code == 200
    page = response.content.decode()
    fourth = earned[3]
    assert (
        f"Negative test on {fourth.occurred_on:%a %b} {fourth.occurred_on.day} (stimulants)" in page
    )
    assert "step 4, earned $14.50" in page
    assert reverse("drugtests:selection", args=[fourth.selection_id]) in page
    assert "$49.00 / $599.00" in page
    state = response.context["state"]
    assert (state.balance, state.next_step, state.next_amount) == (D("49.00"), 5, D("16.00"))


def test_a_result_that_earned_nothing_says_so(client, counselor, cm_episode, earned, today):
    fx.add_result(cm_episode, today - timedelta(days=2), earned=None, step=5, reason="positive")
    client.force_login(counselor)
    page = client.get(episode_url(cm_episode)).content.decode()
    assert "Positive test on" in page
    assert "nothing earned; the next one earns step 1" in page


def test_handing_out_a_reward_appends_an_issued_line(client, frontdesk, cm_episode, earned):
    client.force_login(frontdesk)
    response = client.post(
        reverse("contingency:issue", args=[cm_episode.pk]),
        {"issue-amount": "30.00", "issue-reward_ref": "GC-1001", "issue-note": "Target card"},
    )
    assert response.status_code == 302
    issued = LedgerEntry.objects.get(enrollment=cm_episode, kind="issued")
    assert (issued.amount, issued.balance, issued.reward_ref) == (
        D("-30.00"),
        D("19.00"),
        "GC-1001",
    )
    assert issued.created_by == frontdesk
    assert issued.episode_total == D("49.00")  # a reward handed out stays earned
    page = client.get(episode_url(cm_episode)).content.decode()
    assert "GC-1001" in page
    assert "Reward handed out on" in page


def test_the_reward_form_offers_the_balance(client, counselor, cm_episode, earned):
    client.force_login(counselor)
    form = client.get(episode_url(cm_episode)).context["issue_form"]
    assert form.initial["amount"] == D("49.00")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"issue-amount": "49.01", "issue-reward_ref": "GC-1"}, "The balance is $49.00"),
        ({"issue-amount": "10", "issue-reward_ref": "  "}, "Enter the voucher or card id."),
        ({"issue-amount": "-5", "issue-reward_ref": "GC-1"}, "at least $0.01"),
        ({"issue-amount": "ten", "issue-reward_ref": "GC-1"}, "Enter an amount in dollars."),
    ],
)
def test_a_bad_reward_is_refused_with_a_message(
    client, counselor, cm_episode, earned, data, message
):
    client.force_login(counselor)
    response = client.post(reverse("contingency:issue", args=[cm_episode.pk]), data)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not LedgerEntry.objects.filter(kind="issued").exists()


def test_the_same_card_cannot_be_handed_out_twice(client, counselor, cm_episode, earned):
    client.force_login(counselor)
    url = reverse("contingency:issue", args=[cm_episode.pk])
    client.post(url, {"issue-amount": "10", "issue-reward_ref": "GC-7"})
    response = client.post(url, {"issue-amount": "10", "issue-reward_ref": "GC-7"})
    assert response.status_code == 422
    assert "GC-7 was already handed out." in response.content.decode()
    assert LedgerEntry.objects.filter(kind="issued").count() == 1


def test_no_reward_form_without_a_balance(client, counselor, cm_episode):
    client.force_login(counselor)
    response = client.get(episode_url(cm_episode))
    assert response.context["issue_form"] is None
    assert "Nothing yet" in response.content.decode()


def test_reconciling_a_reward_appends_a_line_once(client, counselor, cm_episode, earned):
    client.force_login(counselor)
    client.post(
        reverse("contingency:issue", args=[cm_episode.pk]),
        {"issue-amount": "20", "issue-reward_ref": "V-55"},
    )
    issued = LedgerEntry.objects.get(kind="issued")
    url = reverse("contingency:reconcile", args=[issued.pk])
    response = client.post(url, {"reconcile-note": "Card activated"})
    assert response.status_code == 302
    line = LedgerEntry.objects.get(kind="reconciled")
    assert (line.related, line.note, line.amount) == (issued, "Card activated", D("0"))
    again = client.post(url, {"reconcile-note": ""}, follow=True)
    assert "This reward was already reconciled." in again.content.decode()
    assert LedgerEntry.objects.filter(kind="reconciled").count() == 1


def test_only_a_reward_handed_out_can_be_reconciled(client, counselor, cm_episode, earned):
    client.force_login(counselor)
    response = client.post(reverse("contingency:reconcile", args=[earned[0].pk]))
    assert response.status_code == 404
    assert not LedgerEntry.objects.filter(kind="reconciled").exists()


def test_there_is_no_form_that_types_an_earning(client, counselor, cm_episode, earned):
    client.force_login(counselor)
    page = client.get(episode_url(cm_episode)).content.decode()
    actions = {part.split('"')[0] for part in page.split('action="')[1:]}
    assert actions <= {
        reverse("contingency:issue", args=[cm_episode.pk]),
        *(reverse("contingency:reconcile", args=[e.pk]) for e in earned),
        reverse("logout"),
    }


def test_enrolment_from_the_chart(client, counselor, patient, cm_program, today):
    client.force_login(counselor)
    chart = client.get(reverse("patients:chart", args=[patient.pk])).content.decode()
    assert f"Enrol in {cm_program.name}" in chart
    response = client.post(
        reverse("contingency:enroll", args=[patient.pk]),
        {"program": cm_program.pk, "starts_on": today.isoformat(), "ends_on": ""},
    )
    assert response.status_code == 302
    episode = CMEnrollment.objects.get(patient=patient)
    assert (episode.starts_on, episode.ends_on) == (today, today + timedelta(weeks=24, days=-1))
    assert episode.enrolled_by == counselor
    chart = client.get(reverse("patients:chart", args=[patient.pk])).content.decode()
    assert "Next qualifying result: step 1, earns $10.00" in chart


def test_the_enrol_form_starts_today_on_the_site_clock(
    client, counselor, patient, cm_program, today
):
    client.force_login(counselor)
    form = client.get(reverse("contingency:enroll", args=[patient.pk])).context["form"]
    assert form.initial["starts_on"] == today


def test_a_second_active_episode_is_refused(
    client, counselor, patient, cm_episode, cm_program, today
):
    client.force_login(counselor)
    response = client.post(
        reverse("contingency:enroll", args=[patient.pk]),
        {"program": cm_program.pk, "starts_on": today.isoformat()},
    )
    assert response.status_code == 422
    assert "Already on Recovery incentives" in response.content.decode()
    assert CMEnrollment.objects.filter(patient=patient).count() == 1


def test_an_end_before_the_start_is_refused(client, counselor, patient, cm_program, today):
    client.force_login(counselor)
    response = client.post(
        reverse("contingency:enroll", args=[patient.pk]),
        {
            "program": cm_program.pk,
            "starts_on": today.isoformat(),
            "ends_on": (today - timedelta(days=1)).isoformat(),
        },
    )
    assert response.status_code == 422
    assert "The last day cannot be before the first." in response.content.decode()
    assert not CMEnrollment.objects.exists()


def test_ending_an_episode_keeps_the_reason(client, counselor, cm_episode):
    client.force_login(counselor)
    url = reverse("contingency:end", args=[cm_episode.pk])
    assert client.post(url, {"end-reason": ""}).status_code in (200, 422)
    cm_episode.refresh_from_db()
    assert cm_episode.status == "active"
    response = client.post(url, {"end-reason": "Discharged to outpatient"})
    assert response.status_code == 302
    cm_episode.refresh_from_db()
    assert (cm_episode.status, cm_episode.end_reason) == ("ended", "Discharged to outpatient")


def test_a_colleague_without_the_patient_finds_nothing(
    client, other_counselor, cm_episode, earned, patient
):
    client.force_login(other_counselor)
    assert client.get(episode_url(cm_episode)).status_code == 404
    response = client.post(
        reverse("contingency:issue", args=[cm_episode.pk]),
        {"issue-amount": "5", "issue-reward_ref": "X"},
    )
    assert response.status_code == 404
    assert (
        client.post(
            reverse("contingency:end", args=[cm_episode.pk]), {"end-reason": "x"}
        ).status_code
        == 404
    )
    assert client.get(reverse("contingency:enroll", args=[patient.pk])).status_code == 404
    assert not LedgerEntry.objects.filter(kind="issued").exists()
    assert AuditEvent.objects.filter(action="contingency.reward_issue", outcome="denied").exists()


def test_staff_of_another_site_find_nothing(client, outside_counselor, cm_episode, earned):
    client.force_login(outside_counselor)
    assert client.get(episode_url(cm_episode)).status_code == 404
    issued_post = client.post(
        reverse("contingency:issue", args=[cm_episode.pk]),
        {"issue-amount": "5", "issue-reward_ref": "X"},
    )
    assert issued_post.status_code == 404


def test_the_collector_and_the_patient_are_kept_out(client, collector, patient, cm_episode):
    client.force_login(collector)
    assert client.get(episode_url(cm_episode)).status_code == 403
    client.force_login(patient.user)
    assert client.get(episode_url(cm_episode)).status_code == 404
    assert client.get(reverse("contingency:dashboard")).status_code == 404
