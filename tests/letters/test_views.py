"""The letters' pages: who gets in (owner, colleague, outsider for every view), what the
forms refuse, what the portal shows, and the queries the busy pages run."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import AuditEvent, Organization, Site, StaffProfile
from letters.models import Letter
from letters.services import letter_create
from privacy.models import Disclosure
from tests.conftest import SCENARIO_NOW

from .conftest import COURT, pdf_text

pytestmark = pytest.mark.frozen(SCENARIO_NOW)

# The most queries each page may run, whatever the number of consents, letters and
# disclosures (measured at one and at six: the same count). Each page's own reads are
# one or two; the rest is the request's (session, user, staff or patient record, the
# audit row's lock, read and insert in a savepoint, the session's renewal).
LETTER_FORM_MAX = 9  # + the patient, the consent
PORTAL_DISCLOSURES_MAX = 13  # + the disclosures with their letters, one query
STAFF_DISCLOSURES_MAX = 13  # + the patient, the disclosures

PERIOD = {"period_start": "2026-11-02", "period_end": "2026-11-15"}


@pytest.fixture
def consented(patient, court_consent):
    return court_consent(patient)


@pytest.fixture
def letter(patient, consented, counselor):
    return letter_create(
        actor=counselor,
        patient=patient,
        consent=consented,
        sections=["attendance"],
        period_start=date(2026, 11, 2),
        period_end=date(2026, 11, 15),
    )


def _denied(user) -> bool:
    return AuditEvent.objects.filter(actor=user, outcome="denied").exists()


# --- who gets in ---------------------------------------------------------------------


def test_letter_pages_owner_and_colleagues_get_in_outsiders_get_404(
    client,
    patient,
    letter,
    consented,
    counselor,
    nurse,
    frontdesk,
    director,
    outside_counselor,
    other_patient,
):
    pages = {
        "letters:patient": ({"pk": patient.pk}, [counselor, nurse, frontdesk, director]),
        "letters:new": ({"pk": patient.pk, "consent_pk": consented.pk}, [counselor, director]),
        "letters:letter": ({"pk": letter.pk}, [counselor, frontdesk, director]),
        "letters:pdf": ({"pk": letter.pk}, [counselor, frontdesk, director]),
        "letters:patient_disclosures": ({"pk": patient.pk}, [director]),
    }
    for name, (kwargs, allowed) in pages.items():
        url = reverse(name, kwargs=kwargs)
        for user in allowed:
            client.force_login(user)
            assert client.get(url).status_code == 200, (name, user)
        client.force_login(outside_counselor)
        expected = 403 if name == "letters:patient_disclosures" else 404
        assert client.get(url).status_code == expected, name
        client.force_login(other_patient.user)
        assert client.get(url).status_code == 404, name
    assert _denied(outside_counselor) and _denied(other_patient.user)
    # The counselor reaches the chart but not the director's accounting page.
    client.force_login(counselor)
    assert client.get(reverse("letters:patient_disclosures", args=[patient.pk])).status_code == 403


def test_staff_print_the_record_for_their_patients_only(
    client, patient, nurse, outside_counselor, other_patient
):
    url = reverse("letters:record_pdf", args=[patient.pk])
    client.force_login(nurse)
    response = client.post(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "Robin Owner" in pdf_text(response.content)
    disclosure = Disclosure.objects.get()
    assert disclosure.to_patient and disclosure.disclosed_by == nurse
    assert client.get(url).status_code == 405  # a download that is recorded is a POST
    for outsider in (outside_counselor, other_patient.user):
        client.force_login(outsider)
        assert client.post(url).status_code == 404
    assert Disclosure.objects.count() == 1


def test_a_batch_is_seen_by_who_made_it_and_the_director(
    client, patient, consented, counselor, other_counselor, director, nurse
):
    client.force_login(nurse)
    assert client.get(reverse("letters:batch_new")).status_code == 403
    client.force_login(patient.user)
    assert client.get(reverse("letters:batch_new")).status_code == 404
    client.force_login(other_counselor)
    page = client.get(reverse("letters:batch_new")).content.decode()
    assert COURT not in page  # recipients of their own caseload's consents only
    client.force_login(counselor)
    response = client.post(
        reverse("letters:batch_new"),
        {"counselor": counselor.pk, "recipient": COURT, "sections": ["attendance"], **PERIOD},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    url = response.url
    page = client.get(url).content.decode()
    assert "1 letter made, 0 skipped" in page and "Robin Owner" in page
    client.force_login(director)
    assert client.get(url).status_code == 200
    client.force_login(other_counselor)
    assert client.get(url).status_code == 404
    assert _denied(other_counselor)


def test_the_letterhead_page_is_the_directors_of_the_same_organisation(
    client, site, director, counselor, make_staff
):
    url = reverse("letters:letterhead", args=[site.pk])
    client.force_login(counselor)
    assert client.get(url).status_code == 403
    client.force_login(director)
    response = client.post(
        url,
        {"letterhead_name": "Northside Recovery", "address": "1 Main St", "phone": "518 555 0142"},
    )
    assert response.status_code == 422
    assert "says what the clinic treats" in response.content.decode()
    response = client.post(
        url,
        {"letterhead_name": "Northside Health", "address": "1 Main St", "phone": "518 555 0142"},
    )
    assert response.status_code == 302
    site.refresh_from_db()
    assert (site.letterhead_name, site.phone) == ("Northside Health", "+15185550142")
    elsewhere = Organization.objects.create(name="Elsewhere", mrn_prefix="EW")
    their_site = Site.objects.create(
        organization=elsewhere, name="There", code="there", time_zone="America/Chicago"
    )
    assert client.get(reverse("letters:letterhead", args=[their_site.pk])).status_code == 404
    from django.contrib.auth import get_user_model

    other_director = get_user_model().objects.create_user(username="ew_director")
    StaffProfile.objects.create(user=other_director, organization=elsewhere, role="director")
    client.force_login(other_director)
    assert client.get(url).status_code == 404


def test_portal_pages_are_the_patients_own(client, patient, letter, other_patient, counselor):
    client.force_login(other_patient.user)
    page = client.get(reverse("letters:my_disclosures")).content.decode()
    assert COURT not in page and "Nothing has been disclosed." in page
    for name in ("letters:my_record", "letters:my_disclosures"):
        client.force_login(counselor)
        assert client.get(reverse(name)).status_code == 403
    client.force_login(counselor)
    assert client.post(reverse("letters:my_record_pdf")).status_code == 403


# --- the letter form -------------------------------------------------------------------


def test_the_form_offers_only_the_sections_the_consent_covers(
    client, patient, consented, counselor
):
    client.force_login(counselor)
    url = reverse("letters:new", args=[patient.pk, consented.pk])
    page = client.get(url).content.decode()
    assert 'value="attendance"' in page and 'value="drug_tests"' in page
    assert 'value="meetings"' not in page
    assert "Not covered by this consent, so not offered: verified mutual-help meetings." in page
    response = client.post(url, {"sections": ["attendance", "meetings"], **PERIOD})
    assert response.status_code == 422
    assert "The consent does not cover meetings" in response.content.decode()
    assert not Letter.objects.exists() and not Disclosure.objects.exists()
    response = client.post(url, {"sections": ["attendance", "status"], **PERIOD})
    assert response.status_code == 302
    letter = Letter.objects.get()
    assert response.url == reverse("letters:letter", args=[letter.pk])
    assert letter.sections == ["attendance", "status"]


def test_without_a_current_consent_no_letter_is_offered_or_made(
    client, patient, counselor, court_consent
):
    client.force_login(counselor)
    page = client.get(reverse("letters:patient", args=[patient.pk])).content.decode()
    assert "No letter can be sent without one" in page and "Write to" not in page
    from patients.services.consents import consent_revoke

    revoked = consent_revoke(
        actor=counselor, consent=court_consent(patient), revoked_on=date(2026, 11, 10)
    )
    url = reverse("letters:new", args=[patient.pk, revoked.pk])
    assert "No letter can be made" in client.get(url).content.decode()
    response = client.post(url, {"sections": ["attendance"], **PERIOD})
    assert response.status_code == 422
    assert not Letter.objects.exists() and not Disclosure.objects.exists()


def test_the_pdf_link_serves_the_stored_bytes_and_records_each_print(client, letter, frontdesk):
    client.force_login(frontdesk)
    first = client.get(reverse("letters:pdf", args=[letter.pk]))
    second = client.get(reverse("letters:pdf", args=[letter.pk]))
    assert first.content == second.content == bytes(letter.pdf)
    assert first["Content-Type"] == "application/pdf"
    assert AuditEvent.objects.filter(action="letters.letter_printed").count() == 2


# --- the portal ------------------------------------------------------------------------


def test_the_patient_sees_what_went_to_whom_and_downloads_their_record(client, patient, letter):
    client.force_login(patient.user)
    home = client.get("/").content.decode()
    assert reverse("letters:my_disclosures") in home and reverse("letters:my_record") in home
    page = client.get(reverse("letters:my_disclosures")).content.decode()
    assert COURT in page and "Compliance letter: attendance and weekly hours" in page
    assert "Wed Nov 18, 2026" in page
    record_page = client.get(reverse("letters:my_record")).content.decode()
    assert reverse("letters:my_record_pdf") in record_page
    # The machine-readable copy (exchange) is offered beside the PDF.
    assert reverse("exchange:my_bundle") in record_page
    before = Disclosure.objects.filter(to_patient=True).count()
    response = client.post(reverse("letters:my_record_pdf"))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert Disclosure.objects.filter(to_patient=True).count() == before + 1
    page = client.get(reverse("letters:my_disclosures")).content.decode()
    assert "Robin Owner (the patient)" in page


# --- queries ---------------------------------------------------------------------------


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_letter_form_and_the_disclosure_lists_run_a_fixed_number_of_queries(
    client, patient, consented, counselor, director, court_consent
):
    form_url = reverse("letters:new", args=[patient.pk, consented.pk])
    portal_url = reverse("letters:my_disclosures")
    staff_url = reverse("letters:patient_disclosures", args=[patient.pk])

    def letters(n):
        for i in range(n):
            letter_create(
                actor=counselor,
                patient=patient,
                consent=court_consent(patient, recipient=f"Court {i}"),
                sections=["attendance"],
                period_start=date(2026, 11, 9),
                period_end=date(2026, 11, 15),
            )

    def measure():
        client.force_login(counselor)
        form = _count(client, form_url)
        client.force_login(patient.user)
        portal = _count(client, portal_url)
        client.force_login(director)
        staff = _count(client, staff_url)
        return form, portal, staff

    letters(1)
    small = measure()
    letters(5)
    large = measure()
    assert small == large, (small, large)
    assert large[0] <= LETTER_FORM_MAX, large
    assert large[1] <= PORTAL_DISCLOSURES_MAX, large
    assert large[2] <= STAFF_DISCLOSURES_MAX, large
