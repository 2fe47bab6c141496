"""Collection times are typed and shown on the selection's site clock, and must fall
inside the selection's window (after its notice, by its deadline, not in the future)."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from drugtests.forms import CollectionForm
from drugtests.models import Selection, Specimen, TestingPolicy
from drugtests.selectors import notice_at
from drugtests.services.collection import for_cause_order, specimen_collect
from drugtests.services.random_draw import draw_run

from .conftest import NOW

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")
LA = ZoneInfo("America/Los_Angeles")
LATER = NOW + timedelta(hours=1)

POST = {
    "specimen_type": "urine",
    "method": "poc",
    "observed": "on",
    "temperature_in_range": "yes",
    "validity": "valid",
    "chain_of_custody_id": "COC-T1",
}


def _collect(collector, selection=None, **extra):
    kwargs = {
        "actor": collector,
        "selection": selection,
        "chain_of_custody_id": "COC-1",
        "method": "poc",
        "observed": True,
        "temperature_in_range": True,
        "validity": "valid",
        "now": LATER,
        **extra,
    }
    return specimen_collect(**kwargs)


def _every_day(site, **extra):
    return TestingPolicy.objects.create(
        site=site,
        name="Every day",
        frequency=7,
        period="week",
        collection_days="0123456",
        panel=["fentanyl"],
        **extra,
    )


# --- typed on the site's clock --------------------------------------------------------


@pytest.mark.frozen("2026-11-18T15:00:00-05:00")  # noon in Los Angeles
def test_typed_collection_time_is_read_on_the_selection_site_clock(
    client, director, make_patient, outside_counselor, other_site
):
    # The director's pages are in New York time; the specimen was collected in Los Angeles.
    _every_day(other_site)
    patient = make_patient(counselor_user=outside_counselor, at_site=other_site)
    draw_run(site=other_site, now=datetime(2026, 11, 18, 8, 30, tzinfo=LA))
    selection = patient.test_selections.get()
    client.force_login(director)
    response = client.post(
        reverse("drugtests:collect", args=[selection.pk]),
        {**POST, "collected_at": "2026-11-18T10:00"},
    )
    assert response.status_code == 302
    assert Specimen.objects.get().collected_at == datetime(2026, 11, 18, 10, 0, tzinfo=LA)
    page = client.get(reverse("drugtests:selection", args=[selection.pk]))
    assert "Wed Nov 18, 2026, 10:00 AM" in page.content.decode()


@pytest.mark.parametrize(
    ("typed", "stored", "shown"),
    [
        # Fall back: 01:30 happens twice; the first (EDT) is taken.
        pytest.param(
            "2026-11-01T01:30",
            datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
            "2026-11-01T01:30",
            marks=pytest.mark.frozen("2026-11-01T10:00:00-05:00"),
            id="fall-back",
        ),
        # Spring forward: the first minutes after the skipped hour (02:30 is refused:
        # see test_collection_time_inside_the_spring_forward_gap_is_refused).
        pytest.param(
            "2026-03-08T03:30",
            datetime(2026, 3, 8, 7, 30, tzinfo=UTC),
            "2026-03-08T03:30",
            marks=pytest.mark.frozen("2026-03-08T10:00:00-04:00"),
            id="spring-forward",
        ),
    ],
)
def test_collection_time_round_trips_across_dst(
    client, collector, make_patient, site, typed, stored, shown, test_now
):
    patient = make_patient(admitted=date(2026, 1, 5))
    # A night-time clinic, so that the DST hour is inside its opening hours.
    site.opens_at, site.closes_at = time(0, 0), time(23, 59)
    site.save()
    _every_day(site)
    day = test_now.astimezone(NY).date()
    draw_run(site=site, now=datetime.combine(day, time(0, 5), tzinfo=NY))
    selection = patient.test_selections.get()
    client.force_login(collector)
    response = client.post(
        reverse("drugtests:collect", args=[selection.pk]), {**POST, "collected_at": typed}
    )
    assert response.status_code == 302
    specimen = Specimen.objects.get()
    assert specimen.collected_at == stored
    form = CollectionForm(initial={"collected_at": specimen.collected_at}, site=site)
    assert form["collected_at"].value().strftime("%Y-%m-%dT%H:%M") == shown


def test_collection_time_inside_the_spring_forward_gap_is_refused(site):
    form = CollectionForm({**POST, "collected_at": "2026-03-08T02:30"}, site=site, for_cause=False)
    assert not form.is_valid()
    assert "did not happen" in str(form.errors["collected_at"])


def test_collection_form_reads_typed_time_in_the_given_site_zone(other_site):
    form = CollectionForm(
        {**POST, "collected_at": "2026-11-18T10:00"}, site=other_site, for_cause=False
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["collected_at"] == datetime(2026, 11, 18, 18, 0, tzinfo=UTC)


# --- the collection window -------------------------------------------------------------


def test_collection_before_the_notice_is_refused(selected, collector):
    # Drawn on Monday 23 November; a specimen dated 1 October cannot be this test's.
    with pytest.raises(ValidationError) as exc:
        _collect(collector, selected, collected_at=datetime(2026, 10, 1, 10, 0, tzinfo=NY))
    assert "collected_at" in exc.value.message_dict
    assert not Specimen.objects.exists()
    selected.refresh_from_db()
    assert selected.status == Selection.Status.PENDING


def test_collection_just_before_the_notice_is_refused(selected, collector):
    with pytest.raises(ValidationError) as exc:
        _collect(collector, selected, collected_at=notice_at(selected) - timedelta(minutes=1))
    assert "collected_at" in exc.value.message_dict


def test_collection_after_the_deadline_is_refused(selected, collector):
    late = selected.deadline + timedelta(minutes=1)
    with pytest.raises(ValidationError) as exc:
        _collect(collector, selected, collected_at=late, now=late + timedelta(minutes=5))
    assert "collected_at" in exc.value.message_dict
    assert not Specimen.objects.exists()


def test_collection_inside_the_window_is_recorded(selected, collector):
    at = notice_at(selected) + timedelta(minutes=30)
    specimen = _collect(collector, selected, collected_at=at)
    assert specimen.collected_at == at


def test_collection_in_the_future_is_refused(selected, collector):
    with pytest.raises(ValidationError) as exc:
        _collect(collector, selected, collected_at=LATER + timedelta(minutes=5))
    assert "collected_at" in exc.value.message_dict


@pytest.mark.frozen("2026-11-23T11:00:00-05:00")
def test_collection_outside_the_window_is_shown_on_the_form_field(client, collector, selected):
    client.force_login(collector)
    response = client.post(
        reverse("drugtests:collect", args=[selected.pk]),
        {**POST, "collected_at": "2026-10-01T10:00"},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "collected_at" in errors and "notice" in errors["collected_at"][0]
    assert not Specimen.objects.exists()


def test_walk_in_for_cause_collected_a_little_earlier_is_recorded(
    patient, collector, always_policy
):
    # The walk-in's order is the collection itself: it may be typed in after the fact.
    at = LATER - timedelta(minutes=20)
    specimen = _collect(
        collector, patient=patient, for_cause_reason="Smelled of alcohol", collected_at=at
    )
    assert specimen.collected_at == at and specimen.selection.kind == Selection.Kind.FOR_CAUSE


def test_walk_in_for_cause_collected_yesterday_is_refused(patient, collector, always_policy):
    with pytest.raises(ValidationError) as exc:
        _collect(
            collector,
            patient=patient,
            for_cause_reason="Smelled of alcohol",
            collected_at=LATER - timedelta(days=1),
        )
    assert "collected_at" in exc.value.message_dict
    assert not Selection.objects.exists()


# --- the for-cause reason -----------------------------------------------------------


def test_for_cause_reason_too_long_is_refused(patient, nurse, always_policy):
    with pytest.raises(ValidationError) as exc:
        for_cause_order(actor=nurse, patient=patient, reason="x" * 2001, now=NOW)
    assert "reason" in exc.value.message_dict
    assert not Selection.objects.exists()


def test_for_cause_reason_with_nul_is_refused(patient, nurse, always_policy):
    with pytest.raises(ValidationError) as exc:
        for_cause_order(actor=nurse, patient=patient, reason="Court\x00order", now=NOW)
    assert "reason" in exc.value.message_dict


def test_walk_in_reason_errors_are_on_the_walk_in_field(patient, collector, always_policy):
    with pytest.raises(ValidationError) as exc:
        _collect(collector, patient=patient, for_cause_reason="y" * 2001)
    assert "for_cause_reason" in exc.value.message_dict
    assert not Specimen.objects.exists()
