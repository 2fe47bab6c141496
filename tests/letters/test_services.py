"""Letters, batches, the patient's record and the letterhead, through their services."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, InternalError, connection, transaction

from core.models import AuditEvent
from letters.models import Letter
from letters.services import (
    LetterTampered,
    letter_create,
    letter_pdf_verified,
    letters_batch_create,
    record_pdf_produce,
    site_letterhead_update,
)
from privacy.models import Disclosure
from privacy.services import PART2_NOTICE
from tests.conftest import SCENARIO_NOW

from .conftest import COURT, END, START, pdf_text

frozen = pytest.mark.frozen(SCENARIO_NOW)


def _letter(world, actor, sections=("attendance", "drug_tests"), **extra):
    return letter_create(
        actor=actor,
        patient=world.patient,
        consent=extra.pop("consent", world.consent),
        sections=list(sections),
        period_start=extra.pop("period_start", START),
        period_end=extra.pop("period_end", END),
        **extra,
    )


@frozen
def test_a_letter_holds_the_sections_chosen_the_notice_and_the_signature(world, counselor, site):
    counselor.last_name = "Okafor"
    counselor.save()
    counselor.staff_profile.credentials = "CADC"
    counselor.staff_profile.save()
    site.address, site.phone = "120 River St\nAlbany NY 12207", "+15185550142"
    site.letterhead_name = "Riverside Health Associates"
    site.save()

    letter = _letter(world, counselor)
    text = pdf_text(bytes(letter.pdf))
    # The letterhead: the site's chosen name, address and phone; not its own name.
    assert "Riverside Health Associates" in text and "Northside" not in text
    assert "120 River St" in text and "(518) 555-0142" in text
    assert "Wed Nov 18, 2026" in text  # dated on the site's clock
    assert "County Drug Court" in text and "Robin Owner" in text
    assert "Attendance" in text and "Drug tests" in text
    assert "9.0 h minimum: met" in text and "9.0 h minimum: not met" in text
    assert "Presumptive screen result; awaiting laboratory confirmation" in text
    # Sections not chosen are not there at all.
    assert "Current status" not in text and "Saturday Serenity" not in text
    assert " ".join(PART2_NOTICE.split()) in text
    assert "/s/ Counselor Okafor, CADC" in text and "Electronically signed" in text
    # Recorded: the disclosure (what, to whom, under which consent) and the audit row.
    disclosure = letter.disclosure
    assert (disclosure.recipient, disclosure.consent_id, disclosure.disclosed_by_id) == (
        COURT,
        world.consent.pk,
        counselor.pk,
    )
    assert disclosure.information_disclosed == (
        "Compliance letter: attendance and weekly hours, drug test dates and results, "
        "Thu Oct 15, 2026 to Sun Nov 1, 2026"
    )
    assert f"Reference D-{disclosure.pk}" in text
    row = AuditEvent.objects.get(action="letters.letter_created")
    assert row.detail["sha256"] == letter.sha256 and row.patient_id == world.patient.pk


@frozen
def test_a_section_the_consent_does_not_cover_is_refused(world, counselor):
    with pytest.raises(ValidationError) as refused:
        _letter(world, counselor, sections=("attendance", "meetings"))
    assert refused.value.message_dict["sections"] == [
        "The consent does not cover: verified mutual-help meetings."
    ]
    with pytest.raises(ValidationError):
        _letter(world, counselor, sections=())
    assert not Letter.objects.exists() and not Disclosure.objects.exists()


@frozen
@pytest.mark.parametrize("state", ["expired", "revoked", "not yet signed"])
def test_a_consent_that_is_not_current_is_refused(world, counselor, court_consent, state):
    from patients.services.consents import consent_revoke

    if state == "expired":
        consent = court_consent(world.patient, expires_on=date(2026, 11, 17))
    elif state == "revoked":
        consent = court_consent(world.patient)
        consent_revoke(actor=counselor, consent=consent, revoked_on=date(2026, 11, 18))
    else:
        consent = court_consent(world.patient)
        consent.signed_on = date(2026, 11, 19)  # as it would read on a day before it
        consent.save(update_fields=["signed_on"])
    with pytest.raises(ValidationError) as refused:
        _letter(world, counselor, consent=consent)
    assert "not current" in refused.value.message_dict["consent"][0]
    assert not Letter.objects.exists() and not Disclosure.objects.exists()


@frozen
def test_another_patients_consent_and_a_period_ahead_are_refused(
    world, counselor, court_consent, other_patient
):
    theirs = court_consent(other_patient)
    with pytest.raises(ValidationError, match="another patient"):
        _letter(world, counselor, consent=theirs)
    with pytest.raises(ValidationError, match="today or earlier"):
        _letter(world, counselor, period_end=date(2026, 11, 19))
    with pytest.raises(ValidationError, match="at most 366 days"):
        _letter(world, counselor, period_start=date(2025, 10, 1))


@frozen
def test_only_a_counselor_or_the_director_sends_letters(world, frontdesk, director):
    with pytest.raises(ValidationError, match="Only a counselor or the director"):
        _letter(world, frontdesk)
    assert _letter(world, director).created_by == director


@frozen
def test_if_the_pdf_cannot_be_made_nothing_is_recorded(world, counselor, monkeypatch):
    import letters.services

    def broken(*args, **kwargs):
        raise RuntimeError("renderer failed")

    monkeypatch.setattr(letters.services, "letter_pdf", broken)
    with pytest.raises(RuntimeError):
        _letter(world, counselor)
    assert not Disclosure.objects.exists()
    assert not AuditEvent.objects.filter(action="patient.disclosed").exists()


@frozen
def test_a_reprint_is_the_stored_file_checked_against_its_hash(world, counselor):
    import hashlib

    letter = _letter(world, counselor)
    stored = Letter.objects.get(pk=letter.pk)
    assert letter_pdf_verified(stored) == bytes(letter.pdf)
    assert hashlib.sha256(letter_pdf_verified(stored)).hexdigest() == letter.sha256
    # A copy whose bytes changed (behind the database's back) is not served.
    stored.pdf = bytes(stored.pdf).replace(b"County", b"Cousin")
    with pytest.raises(LetterTampered):
        letter_pdf_verified(stored)


@frozen
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the triggers are PostgreSQL's")
def test_the_database_refuses_to_change_or_delete_a_letter(world, counselor):
    letter = _letter(world, counselor)
    for attempt in (
        lambda: Letter.objects.filter(pk=letter.pk).update(recipient="Someone else"),
        lambda: Letter.objects.filter(pk=letter.pk).delete(),
    ):
        with pytest.raises((IntegrityError, InternalError)), transaction.atomic():
            attempt()
    assert Letter.objects.get(pk=letter.pk).recipient == COURT


@frozen
def test_batch_makes_one_letter_per_consented_patient_and_says_who_was_skipped(
    world, counselor, court_consent, make_patient, other_counselor
):
    second = make_patient(first="Sam", last="Second")
    court_consent(second, recipient="  county drug  COURT ")  # the same name, typed loosely
    no_consent = make_patient(first="Nia", last="None")
    elsewhere = make_patient(first="Oli", last="Other")
    court_consent(elsewhere, recipient="Family Court")
    narrow = make_patient(first="Pat", last="Narrow")
    court_consent(narrow, sections=["attendance"])
    not_mine = make_patient(first="Kai", last="Colleague", counselor_user=other_counselor)
    court_consent(not_mine)
    # A newer consent to the same court covers less: the one that covers both is used.
    two = make_patient(first="Tao", last="Two")
    covering = court_consent(two)
    court_consent(two, sections=["attendance"], signed_on=date(2026, 10, 1))

    batch = letters_batch_create(
        actor=counselor,
        counselor=counselor,
        recipient=COURT,
        sections=["attendance", "drug_tests"],
        period_start=START,
        period_end=END,
    )
    letters = {lt.patient_id: lt for lt in batch.letters.all()}
    assert set(letters) == {world.patient.pk, second.pk, two.pk}
    assert letters[two.pk].consent == covering
    assert len({lt.sha256 for lt in letters.values()}) == 3  # one PDF each
    assert "Sam Second" in pdf_text(bytes(letters[second.pk].pdf))
    assert "Robin Owner" not in pdf_text(bytes(letters[second.pk].pdf))
    skipped = {s["name"]: s["reason"] for s in batch.skipped}
    assert skipped == {
        "Nia None": "No current consent naming County Drug Court.",
        "Oli Other": "No current consent naming County Drug Court.",
        "Pat Narrow": "The consent does not cover: drug test dates and results.",
    }
    assert Disclosure.objects.filter(consent__isnull=False).count() == 3
    assert no_consent.pk not in letters and not_mine.pk not in letters


@frozen
def test_a_counselor_batches_only_their_own_caseload(world, counselor, other_counselor):
    with pytest.raises(ValidationError, match="your own caseload"):
        letters_batch_create(
            actor=counselor,
            counselor=other_counselor,
            recipient=COURT,
            sections=["attendance"],
            period_start=START,
            period_end=END,
        )


@frozen
def test_the_record_pdf_holds_the_patients_data_and_nobody_elses(
    world, other_patient, nurse, court_consent
):
    from patients.services.medication import medication_order_create
    from recovery.services.meetings import meeting_log

    from .conftest import at

    medication_order_create(
        actor=nurse,
        patient=world.patient,
        medication="buprenorphine_naloxone",
        dose="16 mg/4 mg",
        frequency="daily",
        prescriber="Dr. Sam Adler",
        start_date=date(2026, 9, 1),
    )
    meeting_log(
        actor=other_patient.user,
        patient=other_patient,
        held_at=at(date(2026, 10, 24), 19),
        fellowship="aa",
        name="Someone Else's Group",
        mode="online",
        now=at(date(2026, 10, 25), 9),
    )
    court_consent(other_patient, recipient="Other Recipient Court")
    # A signed plan and a check-in score, where they exist.
    from tests.measures._chart_fixtures import sit_phq9
    from tests.records._queue_fixtures import make_plan_version

    make_plan_version(author=nurse, patient=world.patient, signed_at=at(date(2026, 11, 2), 10))
    sit_phq9(world.patient, 7, at=at(date(2026, 11, 3), 10), actor=world.patient.user)
    before = Disclosure.objects.count()
    text = pdf_text(record_pdf_produce(actor=world.patient.user, patient=world.patient))
    for mine in (
        "Robin Owner",
        world.patient.mrn,
        "Saturday Serenity",
        "Unverified Wednesday",
        "Buprenorphine/naloxone (Suboxone)",
        "Negative (point-of-care screen)",
        "Unexcused absence",
        "County Drug Court",
        "Treatment plan, version 1",
        "Strengths: Family support.",
        "PHQ-9 Tue Nov 3, 2026 7",
    ):
        assert mine in text, mine
    for theirs in ("Kim Other", other_patient.mrn, "Someone Else's Group", "Other Recipient"):
        assert theirs not in text, theirs
    disclosure = Disclosure.objects.get()
    assert Disclosure.objects.count() == before + 1
    assert disclosure.to_patient and disclosure.patient == world.patient
    assert disclosure.information_disclosed.startswith("Record (PDF)")


@frozen
def test_a_patient_cannot_produce_anothers_record(world, other_patient):
    with pytest.raises(ValidationError):
        record_pdf_produce(actor=other_patient.user, patient=world.patient)
    assert not Disclosure.objects.exists()


def test_a_letterhead_that_names_treatment_needs_the_sites_choice(director, site):
    with pytest.raises(ValidationError, match="says what the clinic treats"):
        site_letterhead_update(
            actor=director,
            site=site,
            letterhead_name="Northside Recovery Center",
            address="1 Main St",
            phone="(518) 555-0142",
            names_treatment=False,
        )
    site.refresh_from_db()
    assert site.letterhead_name == "Health Services"  # the neutral default
    saved = site_letterhead_update(
        actor=director,
        site=site,
        letterhead_name="Northside Recovery Center",
        address="1 Main St",
        phone="(518) 555-0142",
        names_treatment=True,
    )
    assert (saved.letterhead_name, saved.phone) == ("Northside Recovery Center", "+15185550142")
    row = AuditEvent.objects.get(action="site.letterhead_updated")
    assert row.detail["fields"] == [
        "address",
        "letterhead_name",
        "letterhead_names_treatment",
        "phone",
    ]


def test_only_the_director_sets_the_letterhead(counselor, site):
    with pytest.raises(ValidationError):
        site_letterhead_update(
            actor=counselor,
            site=site,
            letterhead_name="Health Associates",
            address="",
            phone="",
            names_treatment=False,
        )


@pytest.mark.date_sensitive
def test_a_letter_may_end_today_on_the_sites_clock_and_not_tomorrow(
    patient, counselor, court_consent, test_now
):
    from core.clock import site_today

    today = site_today(patient.site, test_now)
    consent = court_consent(patient, signed_on=today - timedelta(days=30))
    letter = letter_create(
        actor=counselor,
        patient=patient,
        consent=consent,
        sections=["attendance", "status"],
        period_start=today - timedelta(days=13),
        period_end=today,
        now=test_now,
    )
    text = pdf_text(bytes(letter.pdf))
    from core.formats import format_day

    assert format_day(today) in text and "Current status" in text
    with pytest.raises(ValidationError, match="today or earlier"):
        letter_create(
            actor=counselor,
            patient=patient,
            consent=consent,
            sections=["attendance"],
            period_start=today - timedelta(days=13),
            period_end=today + timedelta(days=1),
            now=test_now,
        )
