"""The director's CM programs: listed, created and changed through the service, validated
with clear messages, audited; counselors and patients refused, another organisation's
program not found."""

from decimal import Decimal

import pytest
from django.urls import reverse

from contingency.models import Program
from core.models import AuditEvent, Organization, Site

GOOD = {
    "name": "Recovery incentives",
    "target": "test",
    "target_analytes": ["cocaine", "methamphetamine"],
    "start_amount": "10.00",
    "step_amount": "1.50",
    "max_amount": "26.50",
    "reset_on_positive": "on",
    "reset_on_missed": "on",
    "reset_on_refused": "on",
    "restore_after": "5",
    "episode_cap": "599.00",
    "year_cap": "750.00",
    "episode_weeks": "24",
    "reward_kind": "gift_card",
    "is_active": "on",
}


def make_program(site, **extra):
    from core import clock

    return Program.objects.create(site=site, **{"name": "CM", **extra}, created_at=clock.now())


def test_the_director_creates_a_program_and_it_is_audited(client, director, site):
    client.force_login(director)
    response = client.post(reverse("contingency:program_new"), {**GOOD, "site": site.pk})
    assert response.status_code == 302
    program = Program.objects.get(site=site)
    assert program.name == "Recovery incentives"
    assert program.target_analytes == ["cocaine", "methamphetamine"]
    assert (program.start_amount, program.max_amount) == (Decimal("10.00"), Decimal("26.50"))
    assert program.is_active and program.reset_on_missed
    event = AuditEvent.objects.get(action="contingency.program_create")
    assert (event.actor, event.site_id, event.detail["before"]) == (director, site.pk, None)
    assert event.detail["after"]["episode_cap"] == "599.00"


def test_the_director_changes_a_program_and_the_audit_keeps_before_and_after(
    client, director, site
):
    program = make_program(site)
    client.force_login(director)
    response = client.post(
        reverse("contingency:program_edit", args=[program.pk]),
        {**GOOD, "start_amount": "5.00", "reset_on_missed": ""},
    )
    assert response.status_code == 302
    program.refresh_from_db()
    assert program.start_amount == Decimal("5.00")
    assert program.reset_on_missed is False
    event = AuditEvent.objects.get(action="contingency.program_update")
    assert event.detail["before"]["start_amount"] == "10.00"
    assert event.detail["after"]["start_amount"] == "5.00"


def test_the_list_shows_the_site_programs(client, director, site):
    make_program(site, name="Stimulant CM")
    client.force_login(director)
    page = client.get(reverse("contingency:programs")).content.decode()
    assert "Stimulant CM" in page
    assert "stimulants" in page
    assert "$599.00 per 24-week episode" in page


def test_the_form_says_a_change_applies_from_now_on(client, director, site):
    program = make_program(site)
    client.force_login(director)
    page = client.get(reverse("contingency:program_edit", args=[program.pk])).content.decode()
    assert "keep their own amounts" in page
    assert "never cash" in page or "No cash" in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "start_amount",
            "30.00",
            "The first reward cannot be more than the most one result earns.",
        ),
        ("start_amount", "0", "The first reward must be more than $0."),
        ("episode_cap", "0", "A cap must be more than $0 and at most $99999.99."),
        ("year_cap", "-5", "Enter an amount in dollars from $0 to $99999.99."),
        ("episode_weeks", "0", "Enter a number of weeks from 1 to 104."),
        ("restore_after", "51", "Enter a number of results from 0 to 50."),
        ("reward_kind", "cash", "Choose a voucher, a gift card or a prize draw."),
        ("target_analytes", [], "Choose at least one analyte that decides the test."),
        ("max_amount", "12.345", "Enter dollars and cents (two decimal places at most)."),
        ("name", "", "Give the program a name."),
    ],
)
def test_a_bad_value_gets_a_clear_message_and_changes_nothing(
    client, director, site, field, value, message
):
    program = make_program(site)
    client.force_login(director)
    response = client.post(
        reverse("contingency:program_edit", args=[program.pk]), {**GOOD, field: value}
    )
    assert response.status_code == 422
    assert message in response.content.decode()
    program.refresh_from_db()
    assert program.name == "CM"
    assert program.start_amount == Decimal("10.00")
    assert not AuditEvent.objects.filter(action="contingency.program_update").exists()


def test_a_counselor_is_refused(client, counselor, site):
    program = make_program(site)
    client.force_login(counselor)
    assert client.get(reverse("contingency:programs")).status_code == 403
    response = client.post(reverse("contingency:program_edit", args=[program.pk]), GOOD)
    assert response.status_code == 403
    program.refresh_from_db()
    assert program.name == "CM"


def test_a_patient_finds_nothing(client, patient, site):
    program = make_program(site)
    client.force_login(patient.user)
    assert client.get(reverse("contingency:programs")).status_code == 404
    assert client.get(reverse("contingency:program_edit", args=[program.pk])).status_code == 404


def test_another_organisations_director_does_not_find_the_program(client, make_staff, site):
    program = make_program(site)
    org = Organization.objects.create(name="Elsewhere", mrn_prefix="EL")
    elsewhere = Site.objects.create(organization=org, name="Far", code="far", time_zone="UTC")
    outsider = make_staff("far_director", "director", sites=[elsewhere])
    outsider.staff.organization = org
    outsider.staff.save()
    client.force_login(outsider)
    response = client.post(reverse("contingency:program_edit", args=[program.pk]), GOOD)
    assert response.status_code == 404
    program.refresh_from_db()
    assert program.name == "CM"
    assert "CM" not in client.get(reverse("contingency:programs")).content.decode().split("<h1")[1]


def test_a_new_program_cannot_be_put_at_another_organisations_site(client, director, site):
    org = Organization.objects.create(name="Elsewhere", mrn_prefix="EL")
    elsewhere = Site.objects.create(organization=org, name="Far", code="far", time_zone="UTC")
    client.force_login(director)
    response = client.post(reverse("contingency:program_new"), {**GOOD, "site": elsewhere.pk})
    assert response.status_code == 422
    assert "Choose one of your sites." in response.content.decode()
    assert not Program.objects.exists()
