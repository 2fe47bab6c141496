"""The scores page (a larger trend per instrument and a table of sittings), one sitting's
item-level answers, and "make due now": who may open them, what they show, and fixed
query counts."""

from datetime import timedelta

import pytest
from django.urls import reverse

from core.models import AuditEvent
from measures.models import Administration
from measures.selectors.chart import trend_chart, trends_for

from . import _chart_fixtures as fx

pytestmark = pytest.mark.django_db

phq9_series = fx.phq9_series
bam_like = fx.bam_like

# Session, user and staff profile, the access rule (the counselor's sites, the patient),
# the audit row (savepoint, insert, release: appended without a lock since #20), the sittings, the
# active instruments.
SCORES_QUERIES = 8
# Session, user and staff profile, the counselor's sites, the sitting (its patient and
# instrument joined), its answers with their questions, the audit row (three), the safety
# event.
ADMINISTRATION_QUERIES = 8


def _get(client, user, url):
    client.force_login(user)
    return client.get(url)


def test_scores_page_shows_each_sitting_with_band_change_and_mode(
    client, counselor, patient, phq9_series
):
    phq9_series((18, 15, 12, 9))
    html = _get(client, counselor, reverse("measures:patient_scores", args=[patient.pk]))
    text = html.content.decode()
    assert html.status_code == 200
    for total, band in ((18, "Moderately severe"), (15, "Moderately severe"), (9, "Mild")):
        assert f"<td>{total}</td>" in text and band in text
    assert "Improved (\u22129)" in text
    assert "Patient (portal)" in text


def test_scores_page_names_who_entered_a_sitting_with_the_patient(
    client, counselor, patient, test_now
):
    fx.sit_phq9(
        patient,
        6,
        at=test_now - timedelta(days=2),
        actor=counselor,
        mode=Administration.Mode.WITH_STAFF,
    )
    text = _get(
        client, counselor, reverse("measures:patient_scores", args=[patient.pk])
    ).content.decode()
    assert f"Entered with patient by {counselor.get_full_name() or counselor.username}" in text


def test_scores_page_dates_are_site_local(client, counselor, patient, site, test_now):
    # 03:30 UTC is still the evening before in New York.
    from datetime import UTC, datetime

    late = datetime.combine(test_now.date() - timedelta(days=3), datetime.min.time(), UTC)
    late = late.replace(hour=3, minute=30)
    fx.sit_phq9(patient, 7, at=late, actor=patient.user)
    text = _get(
        client, counselor, reverse("measures:patient_scores", args=[patient.pk])
    ).content.decode()
    local_day = late.astimezone(site.tz).date()
    assert local_day != late.date()
    from core.formats import format_day

    assert format_day(local_day) in text


def test_scores_page_draws_bands_behind_the_trend(client, counselor, patient, phq9_series):
    phq9_series()
    text = _get(
        client, counselor, reverse("measures:patient_scores", args=[patient.pk])
    ).content.decode()
    assert 'aria-labelledby="trend-phq9-l-title" aria-describedby="trend-phq9-l-desc"' in text
    for band in ("Minimal", "Mild", "Moderate", "Moderately severe", "Severe"):
        assert f">{band}</text>" in text


def test_scores_page_draws_subscales_with_their_thresholds(
    client, counselor, patient, bam_like, test_now
):
    for days, values in ((20, {1: 2, 3: 3, 4: 2, 5: 1}), (6, {1: 0, 3: 1, 5: 3, 6: 2})):
        fx.sit(patient, bam_like, values, at=test_now - timedelta(days=days), actor=patient.user)
    text = _get(
        client, counselor, reverse("measures:patient_scores", args=[patient.pk])
    ).content.decode()
    for label in ("Use", "Risk", "Protective", "Risk &gt;= 4", "Protective &lt;= 2"):
        assert f">{label}</text>" in text
    assert text.count('<polyline points="') >= 3


def test_trend_of_a_subscale_instrument_has_a_line_per_subscale(patient, bam_like, test_now):
    fx.sit(patient, bam_like, {1: 1, 3: 2}, at=test_now - timedelta(days=3), actor=patient.user)
    trend = trends_for(patient)[0]
    drawn = trend_chart(trend, patient.site.tz)
    assert [t.label for t in drawn.traces] == ["Use", "Risk", "Protective"]
    assert [r["label"] for r in drawn.references] == ["Risk >= 4", "Protective <= 2"]
    assert drawn.bands == []


@pytest.mark.parametrize(
    "who,status", [("counselor", 200), ("other_counselor", 404), ("outside_counselor", 404)]
)
def test_scores_page_access(client, request, patient, phq9_series, who, status):
    phq9_series()
    user = request.getfixturevalue(who)
    response = _get(client, user, reverse("measures:patient_scores", args=[patient.pk]))
    assert response.status_code == status


def test_scores_page_refused_to_front_desk(client, frontdesk, patient):
    response = _get(client, frontdesk, reverse("measures:patient_scores", args=[patient.pk]))
    assert response.status_code == 403


@pytest.mark.parametrize("count", [1, 10])
def test_scores_page_query_count_is_fixed(
    client, counselor, patient, phq9_series, django_assert_num_queries, count
):
    phq9_series(tuple(range(count + 2, 2, -1)))
    url = reverse("measures:patient_scores", args=[patient.pk])
    client.force_login(counselor)
    client.get(url)
    with django_assert_num_queries(SCORES_QUERIES):
        client.get(url)


def test_administration_page_shows_each_question_and_chosen_answer(
    client, counselor, patient, phq9_series
):
    first = phq9_series((18, 9))[0]
    text = _get(
        client, counselor, reverse("measures:administration", args=[first.pk])
    ).content.decode()
    item1 = first.instrument.items.get(number=1)
    chosen = item1.option(3)
    assert item1.text_en in text
    assert chosen["en"] in text
    assert "<td>3</td>" in text


@pytest.mark.parametrize(
    "who,status", [("counselor", 200), ("other_counselor", 404), ("outside_counselor", 404)]
)
def test_administration_page_access(client, request, patient, phq9_series, who, status):
    sitting = phq9_series((8,))[0]
    user = request.getfixturevalue(who)
    response = _get(client, user, reverse("measures:administration", args=[sitting.pk]))
    assert response.status_code == status


def test_administration_page_denial_leaves_an_audit_row(
    client, other_counselor, patient, phq9_series
):
    sitting = phq9_series((8,))[0]
    _get(client, other_counselor, reverse("measures:administration", args=[sitting.pk]))
    assert AuditEvent.objects.filter(
        action="measures.administration_view", outcome=AuditEvent.Outcome.DENIED
    ).exists()


@pytest.mark.parametrize("count", [1, 6])
def test_administration_page_query_count_is_fixed(
    client, counselor, patient, phq9_series, django_assert_num_queries, count
):
    sitting = phq9_series(tuple(range(count + 2, 2, -1)))[-1]
    url = reverse("measures:administration", args=[sitting.pk])
    client.force_login(counselor)
    client.get(url)
    with django_assert_num_queries(ADMINISTRATION_QUERIES):
        client.get(url)


def test_make_due_now_creates_an_ad_hoc_sitting(client, counselor, patient, today):
    client.force_login(counselor)
    response = client.post(reverse("measures:request", args=[patient.pk]), {"instrument": "gad7"})
    assert response.status_code == 302
    made = Administration.objects.get(patient=patient, instrument__code="gad7")
    assert made.reason == Administration.Reason.AD_HOC
    assert made.status == Administration.Status.DUE
    assert made.due_on == today
    assert AuditEvent.objects.filter(
        action="measures.administration_due", object_id=str(made.pk)
    ).exists()


def test_make_due_now_twice_keeps_one_open_sitting(client, counselor, patient):
    client.force_login(counselor)
    url = reverse("measures:request", args=[patient.pk])
    client.post(url, {"instrument": "phq9"})
    client.post(url, {"instrument": "phq9"})
    assert Administration.objects.filter(patient=patient, instrument__code="phq9").count() == 1


def test_make_due_now_refuses_an_unknown_instrument(client, counselor, patient):
    client.force_login(counselor)
    response = client.post(reverse("measures:request", args=[patient.pk]), {"instrument": "nope"})
    assert response.status_code == 302
    assert not Administration.objects.filter(patient=patient).exists()


@pytest.mark.parametrize("who", ["other_counselor", "outside_counselor"])
def test_make_due_now_for_a_patient_not_seen_is_404(client, request, patient, who):
    client.force_login(request.getfixturevalue(who))
    response = client.post(reverse("measures:request", args=[patient.pk]), {"instrument": "phq9"})
    assert response.status_code == 404
    assert not Administration.objects.filter(patient=patient).exists()


def test_make_due_now_redirects_only_to_a_local_next(client, counselor, patient):
    client.force_login(counselor)
    response = client.post(
        reverse("measures:request", args=[patient.pk]),
        {"instrument": "phq9", "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("patients:chart", args=[patient.pk])
