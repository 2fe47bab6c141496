"""The director's record rules page: one site's note formats and documentation clocks,
validated, audited, the director's only, inside their organisation."""

import pytest
from django.urls import reverse

from core.models import AuditEvent, Organization, Site, StaffProfile
from records.models import RecordSettings

GOOD = {
    "note_formats": ["DAP", "SOAP"],
    "note_due_business_days": "2",
    "initial_plan_days": "5",
    "review_days_op": "60",
    "review_days_iop": "30",
    "review_days_php": "7",
    "level_change_review_days": "3",
    "cosign_days": "14",
}


def url(site):
    return reverse("records:settings", args=[site.pk])


def test_the_director_sees_the_defaults_before_anything_is_set(client, director, site):
    client.force_login(director)
    response = client.get(url(site))
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["note_formats"] == ["DAP", "BIRP", "SOAP"]
    assert form.initial["note_due_business_days"] == 3
    assert form.initial["review_days_php"] == 14
    assert "These are the defaults" in response.content.decode()


def test_the_director_sets_the_rules_and_the_change_is_audited(client, director, site):
    client.force_login(director)
    response = client.post(url(site), GOOD)
    assert response.status_code == 302
    rules = RecordSettings.objects.get(site=site)
    assert rules.note_formats == "DAP,SOAP"
    assert (rules.note_due_business_days, rules.initial_plan_days) == (2, 5)
    assert (rules.review_days_op, rules.review_days_iop, rules.review_days_php) == (60, 30, 7)
    assert (rules.level_change_review_days, rules.cosign_days) == (3, 14)
    event = AuditEvent.objects.get(action="records.settings_update")
    assert (event.actor, event.site_id) == (director, site.pk)
    assert event.detail["before"] is None
    assert event.detail["after"]["cosign_days"] == 14


def test_a_second_change_updates_the_same_row_and_audits_before_and_after(client, director, site):
    client.force_login(director)
    client.post(url(site), GOOD)
    client.post(url(site), {**GOOD, "note_formats": ["BIRP"], "cosign_days": "10"})
    rules = RecordSettings.objects.get(site=site)
    assert (rules.note_formats, rules.cosign_days) == ("BIRP", 10)
    last = AuditEvent.objects.filter(action="records.settings_update").order_by("-id").first()
    assert last.detail["before"]["note_formats"] == "DAP,SOAP"
    assert last.detail["after"]["note_formats"] == "BIRP"
    assert RecordSettings.for_site(site).allowed_formats == ["BIRP"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("note_due_business_days", "0", "Enter a number of days from 1 to 30."),
        ("initial_plan_days", "0", "Enter a number of days from 1 to 90."),
        ("review_days_php", "400", "Enter a number of days from 1 to 365."),
        ("level_change_review_days", "-1", "Enter a number of days from 0 to 90."),
        ("cosign_days", "ten", "Enter a number of days from 1 to 90."),
        ("cosign_days", "", "Enter a number of days from 1 to 90."),
        ("note_formats", ["XYZ"], "Unknown note format: XYZ (DAP, BIRP or SOAP)."),
        ("note_formats", [], "Allow at least one note format."),
    ],
)
def test_a_bad_value_gets_a_clear_message_and_changes_nothing(
    client, director, site, field, value, message
):
    client.force_login(director)
    response = client.post(url(site), {**GOOD, field: value})
    assert response.status_code == 422
    assert message in response.context["form"].errors[field]
    assert message in response.content.decode()
    assert not RecordSettings.objects.filter(site=site).exists()
    assert not AuditEvent.objects.filter(action="records.settings_update").exists()


def test_the_service_refuses_what_the_form_would_let_through(director, site):
    from django.core.exceptions import ValidationError

    from records.services.settings import record_settings_update

    values = {k: int(v) for k, v in GOOD.items() if k != "note_formats"}
    with pytest.raises(ValidationError) as exc:
        record_settings_update(
            actor=director, site=site, note_formats=["DAP"], **{**values, "cosign_days": 0}
        )
    assert "cosign_days" in exc.value.message_dict


@pytest.mark.parametrize("role", ["counselor", "nurse", "frontdesk", "collector"])
def test_staff_other_than_the_director_are_refused(client, site, role, request):
    client.force_login(request.getfixturevalue(role))
    assert client.get(url(site)).status_code == 403
    assert client.post(url(site), GOOD).status_code == 403
    assert not RecordSettings.objects.exists()


def test_the_director_reaches_every_site_of_the_organisation(client, director, site, other_site):
    client.force_login(director)
    assert client.post(url(other_site), GOOD).status_code == 302
    assert RecordSettings.objects.get().site == other_site


def test_a_director_of_another_organisation_gets_404_and_an_audit_row(
    client, site, django_user_model
):
    org = Organization.objects.create(name="Elsewhere", mrn_prefix="EL")
    Site.objects.create(organization=org, name="Far", code="far", time_zone="America/Chicago")
    user = django_user_model.objects.create_user(username="far_director", password="x" * 16)
    StaffProfile.objects.create(user=user, organization=org, role="director")
    client.force_login(user)
    assert client.get(url(site)).status_code == 404
    assert client.post(url(site), GOOD).status_code == 404
    assert not RecordSettings.objects.exists()
    assert AuditEvent.objects.filter(
        action="records.settings_view", actor=user, outcome="denied"
    ).exists()


def test_the_holidays_page_links_the_director_to_the_record_rules(client, director, site):
    client.force_login(director)
    page = client.get(reverse("scheduling:holidays") + f"?site={site.pk}").content.decode()
    assert f'href="{url(site)}"' in page
