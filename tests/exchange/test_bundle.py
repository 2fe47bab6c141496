"""The patient's record as a FHIR R4B Bundle: it validates, every resource carries the
Part 2 labels, references resolve inside it, nothing of another patient is in it, and
building it takes a fixed number of queries."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from exchange.fhir import (
    EPISODE_STATUS,
    episode_status,
    patient_bundle,
    planned_episode_status,
)
from exchange.selectors import patient_for_export, patient_record
from patients.models import Enrollment, EnrollmentStatus, ScheduledChange

pytestmark = pytest.mark.django_db

# confidentiality R, the policy 42 CFR Part 2, refrain: no disclosure without consent.
LABELS = {
    ("http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "R"),
    ("http://terminology.hl7.org/CodeSystem/v3-ActCode", "42CFRPart2"),
    ("http://terminology.hl7.org/CodeSystem/v3-ActCode", "NODSCLCD"),
}
# FHIR R4B's value sets for the statuses the export writes (fhir.resources checks the
# shape of a resource, not that a code belongs to its value set).
R4B_EPISODE_STATUSES = {
    "planned",
    "waitlist",
    "active",
    "onhold",
    "finished",
    "cancelled",
    "entered-in-error",
}


def build(patient):
    return patient_bundle(patient_record(patient_for_export(patient.pk)))


def resources(bundle, kind=None):
    return [
        e["resource"]
        for e in bundle["entry"]
        if kind is None or e["resource"]["resourceType"] == kind
    ]


def references(node):
    if isinstance(node, dict):
        if isinstance(node.get("reference"), str):
            yield node["reference"]
        for value in node.values():
            yield from references(value)
    elif isinstance(node, list):
        for value in node:
            yield from references(value)


@pytest.fixture
def two_records(make_record):
    """Robin's record, and Kim's: at the same group sessions, with tests and plans too."""
    robin = make_record(first="Robin", last="Owner", sessions=3, tests=2)
    kim = make_record(first="Kim", last="Stranger", tests=1, shared=robin.sessions)
    return robin, kim


def test_the_bundle_validates_as_fhir_r4b_and_holds_every_kind(two_records):
    from fhir.resources.R4B.bundle import Bundle

    robin, _ = two_records
    bundle = build(robin.patient)
    # What a receiver parses: the JSON text the command and the downloads write.
    parsed = Bundle.model_validate(json.loads(json.dumps(bundle)))
    assert parsed.type == "collection"
    counts = Counter(r["resourceType"] for r in resources(bundle))
    assert counts == {
        "Patient": 1,
        "Organization": 2,  # the organisation and the patient's site
        # The counselor (facilitator, plan author, a check-in with staff), the collector.
        "Practitioner": 2,
        "EpisodeOfCare": 2,
        "Encounter": 3,  # attended; the unexcused absence is not an encounter
        "Specimen": 2,
        # 4 analytes per cup, 1 lab confirmation, PHQ-9 and GAD-7 totals
        "Observation": 2 * 4 + 1 + 2,
        "QuestionnaireResponse": 2,
        "MedicationStatement": 2,
        "Consent": 2,
        "CarePlan": 1,  # the plan as last signed (version 2)
        "Goal": 1,
    }
    [plan] = resources(bundle, "CarePlan")
    [goal] = resources(bundle, "Goal")
    assert (plan["title"], plan["status"]) == ("Treatment plan, version 2", "active")
    assert goal["description"]["text"] == "I want to stay clean for my kids (v2)"
    assert plan["goal"] == [{"reference": f"urn:uuid:{goal['id']}"}]
    assert [a["detail"]["status"] for a in plan["activity"]] == ["in-progress", "in-progress"]


def test_every_resource_carries_the_part2_labels(two_records):
    bundle = build(two_records[0].patient)
    for resource in [bundle, *resources(bundle)]:
        held = {(c["system"], c["code"]) for c in resource["meta"]["security"]}
        assert held == LABELS, resource["resourceType"]


def test_references_resolve_inside_the_bundle_and_ids_are_stable(two_records):
    robin, _ = two_records
    first = build(robin.patient)
    urls = [e["fullUrl"] for e in first["entry"]]
    assert len(set(urls)) == len(urls)
    for entry in first["entry"]:
        assert entry["fullUrl"] == f"urn:uuid:{entry['resource']['id']}"
        for ref in references(entry["resource"]):
            assert ref in urls, (entry["resource"]["resourceType"], ref)
    assert [e["fullUrl"] for e in build(robin.patient)["entry"]] == urls


def test_nothing_of_another_patient_is_in_the_bundle(two_records):
    robin, kim = two_records
    mine, theirs = build(robin.patient), build(kim.patient)
    own_ids = {e["fullUrl"] for e in mine["entry"]}
    shared = own_ids & {e["fullUrl"] for e in theirs["entry"]}
    # Only the staff and the organisation appear in both (the sessions were shared).
    assert {r["resourceType"] for r in resources(mine) if f"urn:uuid:{r['id']}" in shared} == {
        "Organization",
        "Practitioner",
    }
    [kim_patient] = resources(theirs, "Patient")
    assert f"urn:uuid:{kim_patient['id']}" not in set(references(mine))
    text = json.dumps(mine)
    for leak in (
        "Kim",
        "Stranger",
        kim.patient.mrn,
        *(s.chain_of_custody_id for s in kim.specimens),
    ):
        assert leak not in text
    assert "Robin" in text and robin.patient.mrn in text


def test_episode_statuses_are_mapped_from_each_enrollment_and_admission_status():
    mapped = {s: episode_status(Enrollment(status=s)) for s in EnrollmentStatus.values}
    assert mapped == {"active": "active", "on_hold": "onhold", "discharged": "finished"}
    assert set(EPISODE_STATUS) == set(EnrollmentStatus)
    planned = {
        s: planned_episode_status(ScheduledChange(status=s))
        for s in ("pending", "cancelled", "failed")
    }
    assert planned == {"pending": "planned", "cancelled": "cancelled", "failed": "cancelled"}
    assert set(mapped.values()) | set(planned.values()) <= R4B_EPISODE_STATUSES


def test_episodes_in_the_bundle_with_their_status_history(
    make_patient, make_record, frontdesk, counselor, today, test_now
):
    from patients.services.scheduled_changes import scheduled_change_cancel

    robin = make_record(first="Robin", last="Owner", sessions=1, tests=0)
    episodes = resources(build(robin.patient), "EpisodeOfCare")
    assert [e["status"] for e in episodes] == ["finished", "active"]
    start = today - timedelta(days=90)
    assert episodes[0]["period"] == {
        "start": start.isoformat(),
        "end": (start + timedelta(days=20)).isoformat(),
    }
    history = [(h["status"], h["period"]) for h in episodes[1]["statusHistory"]]
    assert history == [
        ("active", {"start": str(start + timedelta(30)), "end": str(start + timedelta(40))}),
        ("onhold", {"start": str(start + timedelta(40)), "end": str(start + timedelta(45))}),
        ("active", {"start": str(start + timedelta(45))}),
    ]
    # On hold now; a stay dated ahead is planned, one called off is cancelled.
    from patients.services.enrollment import enrollment_hold

    held = make_patient(first="Hal", last="Hold")
    enrollment_hold(
        actor=counselor, enrollment=held.enrollments.get(), effective_date=today, reason="Trip"
    )
    assert [e["status"] for e in resources(build(held), "EpisodeOfCare")] == ["onhold"]
    later = make_patient(first="Pat", last="Later", admitted=today + timedelta(days=7))
    assert not later.enrollments.exists()
    [planned] = resources(build(later), "EpisodeOfCare")
    assert planned["status"] == "planned"
    assert planned["period"] == {"start": str(today + timedelta(days=7))}
    change = ScheduledChange.objects.get(patient=later)
    scheduled_change_cancel(actor=frontdesk, change=change, reason="Went elsewhere", now=test_now)
    assert [e["status"] for e in resources(build(later), "EpisodeOfCare")] == ["cancelled"]


def _loinc(observation):
    return observation["code"].get("coding", [{}])[0].get("code")


def test_drug_test_observations_carry_loinc_codes_only_where_known(two_records):
    robin, _ = two_records
    bundle = build(robin.patient)
    labs = [
        o
        for o in resources(bundle, "Observation")
        if o["category"][0]["coding"][0]["code"] == "laboratory"
    ]
    assert Counter((_loinc(o), o["code"]["text"], o["status"]) for o in labs) == {
        ("3393-6", "Cocaine", "final"): 2,  # the cups' screens
        ("14315-6", "Cocaine", "final"): 1,  # the lab's confirmation
        ("38373-7", "Buprenorphine", "final"): 2,
        # The labs table's standard code for the cannabinoid screen.
        ("18282-4", "Cannabis (THC)", "final"): 2,
        # No standard code in the table: the name only, never a guess.
        (None, "Xylazine", "cancelled"): 2,  # not tested
    }
    [confirmation] = [o for o in labs if _loinc(o) == "14315-6"]
    assert confirmation["valueCodeableConcept"]["text"] == "Positive"
    assert confirmation["interpretation"][0]["coding"][0]["code"] == "POS"
    assert confirmation["component"][0]["valueQuantity"]["value"] == 412.5
    assert confirmation["performer"] == [{"display": "Acme Toxicology"}]
    assert all("valueCodeableConcept" not in o for o in labs if o["status"] == "cancelled")
    absent = next(o for o in labs if o["code"]["text"] == "Buprenorphine")
    assert absent["interpretation"][0]["text"] == "Prescribed but absent"
    # The confirmation points at the specimen the lab tested, by its chain-of-custody id.
    specimens = {f"urn:uuid:{s['id']}": s for s in resources(bundle, "Specimen")}
    tested = specimens[confirmation["specimen"]["reference"]]
    assert tested["identifier"][0]["value"] == robin.specimens[0].chain_of_custody_id


def test_scores_come_from_measures_with_the_site_offset(two_records):
    robin, _ = two_records
    bundle = build(robin.patient)
    totals = {
        o["code"]["coding"][0]["code"]: o
        for o in resources(bundle, "Observation")
        if o["category"][0]["coding"][0]["code"] == "survey"
    }
    assert set(totals) == {"44261-6", "70274-6"}
    assert totals["44261-6"]["valueInteger"] == 12
    responses = {f"urn:uuid:{r['id']}": r for r in resources(bundle, "QuestionnaireResponse")}
    assert totals["44261-6"]["derivedFrom"][0]["reference"] in responses
    patients = {f"urn:uuid:{p['id']}" for p in resources(bundle, "Patient")}
    staff = {f"urn:uuid:{p['id']}" for p in resources(bundle, "Practitioner")}
    authors = sorted(
        "patient" if r["author"]["reference"] in patients else "staff"
        for r in responses.values()
        if r["author"]["reference"] in patients | staff
    )
    assert authors == ["patient", "staff"]  # the PHQ-9 in the portal, the GAD-7 with staff
    assert all(r["authored"].endswith(("-05:00", "-04:00")) for r in responses.values())


@pytest.mark.date_sensitive
def test_instants_carry_the_sites_offset_and_dates_stay_dates(make_record, test_now):
    robin = make_record(first="Robin", last="Owner", sessions=1, tests=1)
    bundle = build(robin.patient)
    offset = test_now.astimezone(robin.patient.site.tz).strftime("%z")
    assert bundle["timestamp"].endswith(f"{offset[:3]}:{offset[3:]}")
    stamps = re.findall(r'"(\d{4}-\d\d-\d\dT[^"]+)"', json.dumps(bundle))
    assert stamps and all(re.search(r"[+-]\d\d:\d\d$", s) for s in stamps)
    [encounter] = resources(bundle, "Encounter")
    session = robin.sessions[0]
    assert (
        encounter["period"]["start"]
        == session.starts_at.astimezone(robin.patient.site.tz).isoformat()
    )
    [patient] = resources(bundle, "Patient")
    assert patient["birthDate"] == date(1990, 5, 17).isoformat()


def test_building_the_bundle_takes_a_fixed_number_of_queries(make_record):
    small = make_record(first="Sam", last="Small", sessions=1, tests=1)
    large = make_record(first="Lee", last="Large", sessions=6, tests=4)

    def measure(patient):
        patient = patient_for_export(patient.pk)
        with CaptureQueriesContext(connection) as queries:
            patient_bundle(patient_record(patient))
        return len(queries)

    assert measure(small.patient) == measure(large.patient) == 17


def test_a_session_at_another_site_brings_that_site_in(make_patient, other_site, counselor, today):
    from patients.models import Track

    from ._records import attend, make_session

    patient = make_patient(first="Ari", last="Travel")
    west = Track.objects.create(site=other_site, name="West IOP", kind="day", level="2.1")
    attend(make_session(other_site, west, today - timedelta(days=1), counselor), patient)
    bundle = build(patient)
    sites = {o["name"] for o in resources(bundle, "Organization") if "partOf" in o}
    assert sites == {"Northside", "Westside"}
    [encounter] = resources(bundle, "Encounter")
    [westside] = [o for o in resources(bundle, "Organization") if o["name"] == "Westside"]
    assert encounter["serviceProvider"]["reference"] == f"urn:uuid:{westside['id']}"
