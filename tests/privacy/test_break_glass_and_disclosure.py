from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEvent
from patients.services.consents import consent_create, consent_revoke
from privacy.models import BreakGlassGrant, Disclosure
from privacy.services import PART2_NOTICE
from tests.conftest import SCENARIO_NOW

# Written for the suite's scenario instant (tests/conftest.py).
pytestmark = pytest.mark.frozen(SCENARIO_NOW)


@pytest.fixture
def distant_patient(make_patient, other_counselor):
    """A patient at the same site, but on another counselor's caseload and no shared track."""
    return make_patient(first="Lee", last="Distant", counselor_user=other_counselor)


def test_counselor_cannot_open_chart_outside_care_team(client, counselor, distant_patient):
    client.force_login(counselor)
    response = client.get(reverse("patients:chart", args=[distant_patient.pk]))
    assert response.status_code == 404
    assert AuditEvent.objects.filter(
        patient_id=distant_patient.pk, outcome="denied", actor=counselor
    ).exists()


def test_break_glass_with_reason_opens_the_chart_and_is_audited(client, counselor, distant_patient):
    client.force_login(counselor)
    response = client.post(
        reverse("privacy:break_glass"),
        {"mrn": distant_patient.mrn, "reason": "Patient in crisis at front desk, counselor away"},
    )
    assert response.status_code == 302
    assert response.url == reverse("patients:chart", args=[distant_patient.pk])
    grant = BreakGlassGrant.objects.get(user=counselor, patient=distant_patient)
    assert timedelta(hours=3) < grant.expires_at - grant.granted_at <= timedelta(hours=4)
    assert AuditEvent.objects.filter(
        action="patient.break_glass", patient_id=distant_patient.pk
    ).exists()
    assert client.get(response.url).status_code == 200


def test_break_glass_without_a_reason_is_refused(client, counselor, distant_patient):
    client.force_login(counselor)
    response = client.post(
        reverse("privacy:break_glass"), {"mrn": distant_patient.mrn, "reason": "x"}
    )
    assert response.status_code == 200
    assert "clinical reason" in response.content.decode()
    assert not BreakGlassGrant.objects.exists()


def test_break_glass_access_expires(client, counselor, distant_patient):
    from privacy.services import break_glass_grant

    break_glass_grant(
        user=counselor,
        patient=distant_patient,
        reason="Covering a crisis call tonight",
        now=timezone.now() - timedelta(hours=5),
    )
    client.force_login(counselor)
    assert client.get(reverse("patients:chart", args=[distant_patient.pk])).status_code == 404


def test_break_glass_unknown_mrn_says_so(client, counselor, db):
    client.force_login(counselor)
    response = client.post(
        reverse("privacy:break_glass"), {"mrn": "NOPE1", "reason": "Looking for someone urgently"}
    )
    assert "No patient has that MRN" in response.content.decode()


def test_director_sees_break_glass_alert_and_can_mark_it_reviewed(
    client, counselor, director, distant_patient
):
    from privacy.services import break_glass_grant

    grant = break_glass_grant(
        user=counselor, patient=distant_patient, reason="Crisis on the phone line"
    )
    client.force_login(director)
    home = client.get(reverse("home")).content.decode()
    assert "Emergency access to review" in home and "Crisis on the phone line" in home
    client.post(reverse("privacy:break_glass_review", args=[grant.pk]))
    grant.refresh_from_db()
    assert grant.reviewed_by == director
    assert "Emergency access to review" not in client.get(reverse("home")).content.decode()


def test_other_site_staff_cannot_use_break_glass_review(client, counselor, distant_patient):
    from privacy.services import break_glass_grant

    grant = break_glass_grant(
        user=counselor, patient=distant_patient, reason="Crisis on the phone line"
    )
    client.force_login(counselor)
    assert client.post(reverse("privacy:break_glass_review", args=[grant.pk])).status_code == 403


@pytest.fixture
def consent(patient, frontdesk):
    return consent_create(
        actor=frontdesk,
        patient=patient,
        recipient="County Drug Court",
        purpose="Compliance reporting",
        information_disclosed="Attendance and test results",
        signed_on=date(2026, 9, 1),
        expires_on=date(2027, 9, 1),
    )


def test_disclosure_with_matching_consent_carries_the_part2_notice(
    client, counselor, patient, consent
):
    client.force_login(counselor)
    response = client.post(
        reverse("privacy:disclose", args=[patient.pk]),
        {
            "consent": consent.pk,
            "recipient": "county drug court",
            "purpose": "Compliance reporting",
        },
    )
    disclosure = Disclosure.objects.get(patient=patient)
    assert response.url == reverse("privacy:disclosure", args=[disclosure.pk])
    page = client.get(response.url).content.decode()
    assert "42 CFR part 2" in page and PART2_NOTICE[:60] in page
    assert "County Drug Court" in page
    assert AuditEvent.objects.filter(action="patient.disclosed", patient_id=patient.pk).exists()


def test_disclosure_to_another_recipient_is_refused(client, counselor, patient, consent):
    client.force_login(counselor)
    response = client.post(
        reverse("privacy:disclose", args=[patient.pk]),
        {"consent": consent.pk, "recipient": "Employer HR", "purpose": "Compliance reporting"},
    )
    assert response.status_code == 200
    assert "only recipient" in response.content.decode()
    assert not Disclosure.objects.exists()


def test_revoked_consent_cannot_be_used(client, counselor, patient, consent, frontdesk):
    consent_revoke(actor=frontdesk, consent=consent, revoked_on=date(2026, 10, 1))
    client.force_login(counselor)
    response = client.post(
        reverse("privacy:disclose", args=[patient.pk]),
        {
            "consent": consent.pk,
            "recipient": "County Drug Court",
            "purpose": "Compliance reporting",
        },
    )
    assert response.status_code == 200
    assert not Disclosure.objects.exists()


def test_chart_lists_the_accounting_of_disclosures(client, counselor, patient, consent):
    from privacy.services import disclosure_create

    disclosure_create(
        actor=counselor,
        patient=patient,
        consent=consent,
        recipient="County Drug Court",
        purpose="Compliance reporting",
    )
    client.force_login(counselor)
    page = client.get(reverse("patients:chart", args=[patient.pk])).content.decode()
    assert "County Drug Court (Compliance reporting)" in page


def test_director_sees_who_viewed_a_record(client, counselor, director, patient):
    client.force_login(counselor)
    client.get(reverse("patients:chart", args=[patient.pk]))
    client.force_login(director)
    page = client.get(reverse("privacy:patient_access_log", args=[patient.pk])).content.decode()
    assert "counselor" in page and "patient.chart_view" in page


def test_audit_trail_screen_is_for_the_director_only(client, counselor, director):
    client.force_login(counselor)
    assert client.get(reverse("privacy:audit")).status_code == 403
    client.force_login(director)
    response = client.get(reverse("privacy:audit"), {"action": "auth"})
    assert response.status_code == 200


def test_own_record_disclosure_needs_no_consent_and_is_audited(counselor, patient):
    from privacy.services import disclosure_to_patient_record

    disclosure = disclosure_to_patient_record(
        actor=counselor, patient=patient, information_disclosed="Record PDF"
    )
    disclosure.refresh_from_db()
    assert disclosure.to_patient and disclosure.consent is None
    assert disclosure.recipient.endswith("(the patient)")
    assert AuditEvent.objects.filter(
        action="patient.disclosed", object_id=str(disclosure.pk)
    ).exists()


def test_a_third_party_disclosure_without_consent_is_refused_by_the_database(counselor, patient):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Disclosure.objects.create(
            patient=patient,
            recipient="County Court",
            purpose="Compliance",
            information_disclosed="Attendance",
            disclosed_by=counselor,
            disclosed_at=timezone.now(),
        )
