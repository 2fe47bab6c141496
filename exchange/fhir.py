"""One patient's record as a FHIR R4B Bundle (type ``collection``), as plain dicts.

What goes in: Patient, the organisation and the patient's site (Organization), the staff
the record names (Practitioner), EpisodeOfCare (one per stay, and one per admission dated
ahead or called off), Encounter (each session attended), Specimen and Observation (each
drug-test result per analyte), QuestionnaireResponse and score Observations (from
``measures.fhir``), MedicationStatement (MAT), Consent (Part 2 consents), and CarePlan
with its Goals (each episode's plan as last signed).

Every resource, and the Bundle, carries the 42 CFR Part 2 labels (HL7 DS4P) in
``meta.security``. Ids are stable: the same record exported twice gives the same ids and
fullUrls (``urn:uuid:`` of a UUID derived from the organisation, the resource type and
the row), and every reference inside the Bundle points at an entry of it (checked when
the Bundle is assembled: a reference to anything else raises). Instants are written in
the patient's site's time zone with its offset; plain dates stay dates.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, datetime, tzinfo
from decimal import Decimal
from html import escape
from typing import Any

from core import clock
from core.models import Organization, Site, User
from drugtests.loinc import LOINC_SYSTEM, Coding, code_for
from drugtests.models import (
    INVALID_VALIDITY,
    AnalyteOutcome,
    AnalyteResult,
    Interpretation,
    Method,
    Specimen,
    TestResult,
)
from measures import fhir as measures_fhir
from patients.models import (
    Consent,
    Enrollment,
    EnrollmentEvent,
    EnrollmentStatus,
    MedicationOrder,
    Patient,
    ProgramLevel,
    ScheduledChange,
    Sex,
)
from records.models import AsamDimension, ObjectiveStatus, PlanObjective, ServiceType
from scheduling.models import Attendance

from .selectors import PatientRecord, PlanContent

Resource = dict[str, Any]

# This clinic's canonical base, shared with measures.fhir.
LOCAL = measures_fhir.LOCAL
V3_CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
V3_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
V3_INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
V3_PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
DATA_ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"

# HL7 DS4P labels for substance-use-disorder records: restricted, governed by 42 CFR
# Part 2, and no further disclosure without the patient's consent.
SECURITY_LABELS: list[dict[str, str]] = [
    {"system": V3_CONFIDENTIALITY, "code": "R", "display": "restricted"},
    {"system": V3_ACT_CODE, "code": "42CFRPart2", "display": "42 CFR Part2"},
    {
        "system": V3_ACT_CODE,
        "code": "NODSCLCD",
        "display": "no disclosure without consent directive",
    },
]

# The namespace of the export's UUIDs; with the organisation in each name, two
# organisations of one deployment never share an id.
ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, LOCAL)

EPISODE_STATUS = {
    EnrollmentStatus.ACTIVE: "active",
    EnrollmentStatus.ON_HOLD: "onhold",
    EnrollmentStatus.DISCHARGED: "finished",
}
# An admission dated ahead has no enrollment yet: the stay is planned; one called off
# (or that could not be applied on its date) never started.
PLANNED_STATUS = {
    ScheduledChange.Status.PENDING: "planned",
    ScheduledChange.Status.CANCELLED: "cancelled",
    ScheduledChange.Status.FAILED: "cancelled",
}
# The history's moves that change the episode's status (level, track, phase and counselor
# moves do not).
EVENT_STATUS = {
    EnrollmentEvent.Kind.ADMITTED: "active",
    EnrollmentEvent.Kind.ON_HOLD: "onhold",
    EnrollmentEvent.Kind.RESUMED: "active",
    EnrollmentEvent.Kind.DISCHARGED: "finished",
}
GENDER = {Sex.FEMALE: "female", Sex.MALE: "male", Sex.INTERSEX: "other", Sex.UNKNOWN: "unknown"}
OBJECTIVE_STATUS = {
    ObjectiveStatus.ACTIVE: "in-progress",
    ObjectiveStatus.MET: "completed",
    ObjectiveStatus.REVISED: "stopped",
    ObjectiveStatus.DISCONTINUED: "stopped",
}


def episode_status(enrollment: Enrollment) -> str:
    return EPISODE_STATUS[EnrollmentStatus(enrollment.status)]


def planned_episode_status(change: ScheduledChange) -> str:
    return PLANNED_STATUS[ScheduledChange.Status(change.status)]


def _ref(resource_type: str, local_id: object) -> dict[str, str]:
    # Written as "Type/local id" while building; ``_assemble`` turns it into the entry's
    # fullUrl (and fails on one that is not in the Bundle).
    return {"reference": f"{resource_type}/{local_id}"}


class _Clock:
    def __init__(self, tz: tzinfo) -> None:
        self.tz = tz

    def instant(self, moment: datetime) -> str:
        return moment.astimezone(self.tz).isoformat()


def _day(value: date) -> str:
    return value.isoformat()


def _text(value: str) -> dict[str, str]:
    return {"text": value}


def _narrative(*lines: str) -> dict[str, str]:
    paragraphs = "".join(f"<p>{escape(line)}</p>" for line in lines if line)
    return {
        "status": "generated",
        "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{paragraphs}</div>',
    }


# --- people and organisations ---------------------------------------------------


def _organizations(organization: Organization, sites: list[Site]) -> list[Resource]:
    """The organisation, and each of its sites the record names (the patient's, and any
    other where a stay or a session was), as a part of it."""
    resources: list[Resource] = [
        {"resourceType": "Organization", "id": str(organization.pk), "name": organization.name}
    ]
    for site in sites:
        resource: Resource = {
            "resourceType": "Organization",
            "id": f"site-{site.pk}",
            "name": site.name,
            "partOf": _ref("Organization", organization.pk),
        }
        if site.address:
            resource["address"] = [{"text": site.address}]
        if site.phone:
            resource["telecom"] = [{"system": "phone", "value": str(site.phone), "use": "work"}]
        resources.append(resource)
    return resources


def _patient(patient: Patient) -> Resource:
    names: list[dict[str, Any]] = [
        {
            "use": "official",
            "family": patient.legal_last_name,
            "given": [patient.legal_first_name],
            "text": patient.legal_name,
        }
    ]
    if patient.preferred_name and patient.preferred_name != patient.legal_first_name:
        names.append(
            {
                "use": "usual",
                "family": patient.legal_last_name,
                "given": [patient.preferred_name],
                "text": patient.display_name,
            }
        )
    resource: Resource = {
        "resourceType": "Patient",
        "id": str(patient.pk),
        "identifier": [
            {
                "use": "usual",
                "type": {"text": "Medical record number"},
                "system": f"{LOCAL}/organization/{patient.organization_id}/mrn",
                "value": patient.mrn,
            }
        ],
        "active": not patient.is_archived,
        "name": names,
        "gender": GENDER[Sex(patient.sex)],
        "birthDate": _day(patient.date_of_birth),
        "managingOrganization": _ref("Organization", f"site-{patient.site_id}"),
    }
    telecom = []
    if patient.phone:
        telecom.append({"system": "phone", "value": str(patient.phone), "use": "mobile"})
    if patient.email:
        telecom.append({"system": "email", "value": patient.email})
    if telecom:
        resource["telecom"] = telecom
    if patient.emergency_contact_name:
        contact: dict[str, Any] = {"name": {"text": patient.emergency_contact_name}}
        if patient.emergency_contact_relationship:
            contact["relationship"] = [_text(patient.emergency_contact_relationship)]
        if patient.emergency_contact_phone:
            contact["telecom"] = [
                {"system": "phone", "value": str(patient.emergency_contact_phone)}
            ]
        resource["contact"] = [contact]
    return resource


def _practitioner(user: User) -> Resource:
    name: dict[str, Any] = {"text": str(user)}
    if user.last_name:
        name["family"] = user.last_name
    if user.first_name:
        name["given"] = [user.first_name]
    resource: Resource = {"resourceType": "Practitioner", "id": str(user.pk), "name": [name]}
    staff = user.staff
    if staff is not None and staff.credentials:
        resource["qualification"] = [{"code": _text(staff.credentials)}]
    return resource


# --- episodes and sessions --------------------------------------------------------


def _status_history(enrollment: Enrollment) -> list[dict[str, Any]]:
    moves = [
        (event.effective_date, EVENT_STATUS[EnrollmentEvent.Kind(event.kind)])
        for event in enrollment.events.all()
        if event.kind in EVENT_STATUS
    ]
    history: list[dict[str, Any]] = []
    for i, (start, status) in enumerate(moves):
        if history and history[-1]["status"] == status:
            continue  # a repeated status (a resume with no hold recorded) extends the last
        period = {"start": _day(start)}
        later = [day for day, other in moves[i + 1 :] if other != status]
        if later:
            period["end"] = _day(later[0])
        history.append({"status": status, "period": period})
    return history


def _episode(enrollment: Enrollment, patient: Patient) -> Resource:
    period = {"start": _day(enrollment.admission_date)}
    if enrollment.discharge_date is not None:
        period["end"] = _day(enrollment.discharge_date)
    resource: Resource = {
        "resourceType": "EpisodeOfCare",
        "id": str(enrollment.pk),
        "status": episode_status(enrollment),
        "type": [_text(ProgramLevel(enrollment.level).label)],
        "patient": _ref("Patient", patient.pk),
        "managingOrganization": _ref("Organization", f"site-{enrollment.site_id}"),
        "period": period,
    }
    history = _status_history(enrollment)
    if history:
        resource["statusHistory"] = history
    return resource


def _planned_episode(change: ScheduledChange, patient: Patient) -> Resource:
    level = change.payload.get("level")
    resource: Resource = {
        "resourceType": "EpisodeOfCare",
        "id": f"admission-{change.pk}",
        "status": planned_episode_status(change),
        "patient": _ref("Patient", patient.pk),
        "managingOrganization": _ref("Organization", f"site-{patient.site_id}"),
        "period": {"start": _day(change.effective_date)},
    }
    if level in ProgramLevel.values:
        resource["type"] = [_text(ProgramLevel(level).label)]
    return resource


def _episode_on(enrollments: list[Enrollment], day: date) -> Enrollment | None:
    for enrollment in reversed(enrollments):  # the latest admission first
        ended = enrollment.discharge_date
        if enrollment.admission_date <= day and (ended is None or day <= ended):
            return enrollment
    return None


def _encounter(
    attendance: Attendance, patient: Patient, enrollments: list[Enrollment], when: _Clock
) -> Resource:
    session = attendance.session
    start = attendance.arrived_at or session.starts_at
    end = attendance.left_at or session.ends_at
    period = {"start": when.instant(start)}
    if end > start:
        period["end"] = when.instant(end)
    resource: Resource = {
        "resourceType": "Encounter",
        "id": str(attendance.pk),
        "status": "finished",
        "class": {"system": V3_ACT_CODE, "code": "AMB", "display": "ambulatory"},
        "type": [
            {
                "coding": [
                    {
                        "system": f"{LOCAL}/CodeSystem/session-kind",
                        "code": session.kind,
                        "display": session.get_kind_display(),
                    }
                ],
                "text": session.title,
            }
        ],
        "subject": _ref("Patient", patient.pk),
        "period": period,
        "length": {
            "value": attendance.minutes_credited,
            "unit": "min",
            "system": UCUM,
            "code": "min",
        },
        "serviceProvider": _ref("Organization", f"site-{session.site_id}"),
    }
    episode = _episode_on(enrollments, session.local_date)
    if episode is not None:
        resource["episodeOfCare"] = [_ref("EpisodeOfCare", episode.pk)]
    if session.facilitator_id is not None:
        resource["participant"] = [{"individual": _ref("Practitioner", session.facilitator_id)}]
    return resource


# --- drug tests ---------------------------------------------------------------------


def _specimen(specimen: Specimen, patient: Patient, when: _Clock) -> Resource:
    collection: dict[str, Any] = {
        "collectedDateTime": when.instant(specimen.collected_at),
        "collector": _ref("Practitioner", specimen.collected_by_id),
    }
    if specimen.observed:
        collection["method"] = _text("Observed collection")
    resource: Resource = {
        "resourceType": "Specimen",
        "id": str(specimen.pk),
        "identifier": [{"system": f"{LOCAL}/specimen-id", "value": specimen.chain_of_custody_id}],
        "type": _text(specimen.get_specimen_type_display()),
        "subject": _ref("Patient", patient.pk),
        "collection": collection,
    }
    if specimen.validity:
        resource["condition"] = [_text(specimen.get_validity_display())]
        if specimen.validity in INVALID_VALIDITY:
            resource["status"] = "unsatisfactory"
    return resource


def _qualitative(outcome: str) -> dict[str, Any]:
    coded = {
        AnalyteOutcome.POSITIVE: ("10828004", "POS"),
        AnalyteOutcome.NEGATIVE: ("260385009", "NEG"),
    }[AnalyteOutcome(outcome)]
    label = AnalyteOutcome(outcome).label
    return {
        "value": {
            "coding": [{"system": SNOMED, "code": coded[0], "display": label}],
            "text": label,
        },
        "flag": {"system": V3_INTERPRETATION, "code": coded[1], "display": label},
    }


def _analyte_observation(
    row: AnalyteResult,
    result: TestResult,
    specimen: Specimen,
    patient: Patient,
    coding: Coding | None,
    when: _Clock,
) -> Resource:
    label = row.get_analyte_display()
    code: dict[str, Any] = {"text": label}
    if coding is not None:
        code["coding"] = [{"system": LOINC_SYSTEM, "code": coding.code, "display": coding.display}]
    resource: Resource = {
        "resourceType": "Observation",
        "id": f"drugtest-{row.pk}",
        "status": "final",
        "category": [
            {
                "coding": [
                    {"system": OBSERVATION_CATEGORY, "code": "laboratory", "display": "Laboratory"}
                ]
            }
        ],
        "code": code,
        "subject": _ref("Patient", patient.pk),
        "effectiveDateTime": when.instant(specimen.collected_at),
        "issued": when.instant(result.entered_at),
        "method": _text(result.get_source_display()),
        "specimen": _ref("Specimen", specimen.pk),
    }
    if result.lab_name:
        resource["performer"] = [{"display": result.lab_name}]
    if row.outcome == AnalyteOutcome.NOT_TESTED:
        resource["status"] = "cancelled"
        resource["dataAbsentReason"] = {
            "coding": [{"system": DATA_ABSENT, "code": "not-performed", "display": "Not Performed"}]
        }
        return resource
    qualitative = _qualitative(row.outcome)
    resource["valueCodeableConcept"] = qualitative["value"]
    resource["interpretation"] = [
        {"coding": [qualitative["flag"]], "text": Interpretation(row.interpretation).label}
    ]
    if row.ng_ml is not None:
        resource["component"] = [
            {
                "code": _text("Concentration"),
                "valueQuantity": {
                    "value": _number(row.ng_ml),
                    "unit": "ng/mL",
                    "system": UCUM,
                    "code": "ng/mL",
                },
            }
        ]
    return resource


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


# --- medication, consents, plans -----------------------------------------------------


def _medication(order: MedicationOrder, patient: Patient, today: date, when: _Clock) -> Resource:
    if order.start_date > today:
        status = "intended"
    elif order.stop_date is not None and order.stop_date < today:
        status = "stopped" if order.stop_reason else "completed"
    else:
        status = "active"
    period = {"start": _day(order.start_date)}
    if order.stop_date is not None:
        period["end"] = _day(order.stop_date)
    resource: Resource = {
        "resourceType": "MedicationStatement",
        "id": str(order.pk),
        "status": status,
        # No RxNorm code is kept with the order: the name only, never a guessed code.
        "medicationCodeableConcept": _text(order.name),
        "subject": _ref("Patient", patient.pk),
        "effectivePeriod": period,
        "dateAsserted": when.instant(order.created_at),
        "dosage": [{"text": f"{order.dose}, {order.get_frequency_display().lower()}"}],
    }
    if order.stop_reason:
        resource["statusReason"] = [_text(order.stop_reason)]
    notes = [order.notes] if order.notes else []
    if order.next_injection_due is not None and status == "active":
        notes.append(f"Next injection due {_day(order.next_injection_due)}.")
    if notes:
        resource["note"] = [{"text": note} for note in notes]
    return resource


def _consent(consent: Consent, patient: Patient, today: date) -> Resource:
    if consent.signed_on > today:
        status = "proposed"
    elif consent.is_current(today):
        status = "active"
    else:
        status = "inactive"  # revoked or expired
    period = {"start": _day(consent.signed_on)}
    ends = [d for d in (consent.expires_on, consent.revoked_on) if d is not None]
    if ends:
        period["end"] = _day(min(ends))
    return {
        "resourceType": "Consent",
        "id": str(consent.pk),
        "text": _narrative(
            f"Recipient: {consent.recipient}",
            f"Purpose: {consent.purpose}",
            f"Information that may be disclosed: {consent.information_disclosed}",
            f"Revoked on {_day(consent.revoked_on)}" if consent.revoked_on else "",
        ),
        "status": status,
        "scope": {
            "coding": [
                {"system": CONSENT_SCOPE, "code": "patient-privacy", "display": "Privacy Consent"}
            ]
        },
        "category": [
            {
                "coding": [
                    {"system": V3_ACT_CODE, "code": "IDSCL", "display": "information disclosure"}
                ],
                "text": "Consent to disclose (42 CFR Part 2)",
            }
        ],
        "patient": _ref("Patient", patient.pk),
        "dateTime": _day(consent.signed_on),
        "performer": [_ref("Patient", patient.pk)],
        "organization": [_ref("Organization", patient.organization_id)],
        "policyRule": {
            "coding": [{"system": V3_ACT_CODE, "code": "42CFRPart2", "display": "42 CFR Part2"}]
        },
        "provision": {
            "type": "permit",
            "period": period,
            "actor": [
                {
                    "role": {
                        "coding": [
                            {
                                "system": V3_PARTICIPATION,
                                "code": "IRCP",
                                "display": "information recipient",
                            }
                        ]
                    },
                    "reference": {"display": consent.recipient},
                }
            ],
        },
    }


def _objective_status(objective: PlanObjective) -> str:
    return OBJECTIVE_STATUS[ObjectiveStatus(objective.status)]


def _care_plan(content: PlanContent, patient: Patient, when: _Clock) -> list[Resource]:
    version = content.version
    enrollment = version.plan.enrollment
    active = enrollment.status != EnrollmentStatus.DISCHARGED
    assert version.signed_at is not None
    problems = {p.pk: p for p in content.problems}
    goals = []
    for goal in content.goals:
        problem = problems.get(goal.problem_id)
        resource: Resource = {
            "resourceType": "Goal",
            "id": str(goal.pk),
            "lifecycleStatus": "active" if active else "completed",
            "description": _text(goal.text),
            "subject": _ref("Patient", patient.pk),
            # Goals are written in the patient's own words.
            "expressedBy": _ref("Patient", patient.pk),
        }
        if problem is not None:
            dimension = AsamDimension(problem.dimension).label
            resource["note"] = [
                {"text": f"Problem (ASAM dimension {dimension}): {problem.description}"}
            ]
        goals.append(resource)
    objectives = {o.pk: o for o in content.objectives}
    activities: list[dict[str, Any]] = []
    for objective in content.objectives:
        activities.append(
            {
                "detail": {
                    "description": objective.text,
                    "status": _objective_status(objective),
                    "goal": [_ref("Goal", objective.goal_id)],
                    "scheduledPeriod": {"end": _day(objective.target_date)},
                }
            }
        )
    for intervention in content.interventions:
        objective = objectives[intervention.objective_id]
        service = str(ServiceType(intervention.service_type).label)
        detail: dict[str, Any] = {
            "code": _text(service),
            "description": f"{service}, {intervention.frequency}, for: {objective.text}",
            "status": _objective_status(objective),
            "goal": [_ref("Goal", objective.goal_id)],
        }
        if intervention.responsible_id is not None:
            detail["performer"] = [_ref("Practitioner", intervention.responsible_id)]
        activities.append({"detail": detail})
    # Dates at both ends (a discharge is a day): start and end stay comparable.
    period = {"start": _day(version.signed_at.astimezone(when.tz).date())}
    if enrollment.discharge_date is not None:
        period["end"] = _day(enrollment.discharge_date)
    contributors = [_ref("Practitioner", version.author_id)]
    if version.patient_signed_at is not None:
        contributors.append(_ref("Patient", patient.pk))
    plan: Resource = {
        "resourceType": "CarePlan",
        "id": str(version.pk),
        "status": "active" if active else "completed",
        "intent": "plan",
        "title": f"Treatment plan, version {version.number}",
        "subject": _ref("Patient", patient.pk),
        "period": period,
        "created": when.instant(version.signed_at),
        "author": _ref("Practitioner", version.author_id),
        "contributor": contributors,
        "supportingInfo": [_ref("EpisodeOfCare", enrollment.pk)],
    }
    description = [
        f"Strengths: {version.strengths}" if version.strengths else "",
        f"Preferences: {version.preferences}" if version.preferences else "",
    ]
    if any(description):
        plan["description"] = " ".join(d for d in description if d)
    if goals:
        plan["goal"] = [_ref("Goal", g["id"]) for g in goals]
    if activities:
        plan["activity"] = activities
    return [plan, *goals]


# --- assembly -------------------------------------------------------------------------


def _staff_of(record: PatientRecord) -> dict[int, User]:
    """Every staff member the record's resources refer to, loaded with their rows."""
    people: dict[int, User] = {}

    def add(user: User | None) -> None:
        if user is not None:
            people.setdefault(user.pk, user)

    for attendance in record.attendance:
        add(attendance.session.facilitator)
    for specimen in record.specimens:
        add(specimen.collected_by)
    for content in record.plans:
        add(content.version.author)
        for intervention in content.interventions:
            add(intervention.responsible)
    for sitting in record.sittings:
        if measures_fhir.authored_by_staff(sitting):
            add(sitting.entered_by)
    return people


def _walk_references(node: object) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if isinstance(node.get("reference"), str):
            yield node
        for value in node.values():
            yield from _walk_references(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk_references(value)


def _assemble(
    resources: list[Resource], *, organization_id: int, patient_id: int, now: datetime, tz: tzinfo
) -> Resource:
    def full_uuid(key: str) -> str:
        return str(uuid.uuid5(ID_NAMESPACE, f"{organization_id}/{key}"))

    urls: dict[str, str] = {}
    for resource in resources:
        key = f"{resource['resourceType']}/{resource['id']}"
        if key in urls:
            raise ValueError(f"two resources are {key}")
        urls[key] = f"urn:uuid:{full_uuid(key)}"
    entries = []
    for resource in resources:
        key = f"{resource['resourceType']}/{resource['id']}"
        for node in _walk_references(resource):
            target = urls.get(node["reference"])
            if target is None:
                raise ValueError(f"{key} refers to {node['reference']}, which is not in the Bundle")
            node["reference"] = target
        resource["id"] = urls[key].removeprefix("urn:uuid:")
        resource["meta"] = {"security": [dict(label) for label in SECURITY_LABELS]}
        entries.append({"fullUrl": urls[key], "resource": resource})
    stamp = now.astimezone(tz).isoformat()
    bundle_id = full_uuid(f"Bundle/patient-{patient_id}/{stamp}")
    return {
        "resourceType": "Bundle",
        "id": bundle_id,
        "meta": {"security": [dict(label) for label in SECURITY_LABELS]},
        "identifier": {"system": f"{LOCAL}/bundle", "value": f"urn:uuid:{bundle_id}"},
        "type": "collection",
        "timestamp": stamp,
        "entry": entries,
    }


def patient_bundle(record: PatientRecord, *, now: datetime | None = None) -> Resource:
    """The Bundle of ``record`` (from ``selectors.patient_record``): no query of its own
    beyond LOINC look-ups, one per analyte and kind of result whatever the number of tests."""
    now = clock.now(now)
    patient = record.patient
    site = patient.site
    when = _Clock(site.tz)
    today = clock.site_today(site, now)
    sites = {site.pk: site}
    sites |= {e.site_id: e.site for e in record.enrollments}
    sites |= {a.session.site_id: a.session.site for a in record.attendance}
    resources = [_patient(patient), *_organizations(patient.organization, list(sites.values()))]
    resources += [_practitioner(user) for user in _staff_of(record).values()]
    resources += [_episode(e, patient) for e in record.enrollments]
    resources += [_planned_episode(c, patient) for c in record.planned_admissions]
    resources += [_encounter(a, patient, record.enrollments, when) for a in record.attendance]
    codes: dict[tuple[str, bool], Coding | None] = {}
    for specimen in record.specimens:
        resources.append(_specimen(specimen, patient, when))
        for result in specimen.results.all():
            confirmation = result.source == Method.LAB
            for row in result.analytes.all():
                key = (row.analyte, confirmation)
                if key not in codes:
                    codes[key] = code_for(row.analyte, confirmation=confirmation)
                resources.append(
                    _analyte_observation(row, result, specimen, patient, codes[key], when)
                )
    for sitting in record.sittings:
        resources.append(measures_fhir.questionnaire_response(sitting, tz=site.tz))
        resources += measures_fhir.observations(sitting, tz=site.tz)
    resources += [_medication(m, patient, today, when) for m in record.medications]
    resources += [_consent(c, patient, today) for c in record.consents]
    for content in record.plans:
        resources += _care_plan(content, patient, when)
    return _assemble(
        resources,
        organization_id=patient.organization_id,
        patient_id=patient.pk,
        now=now,
        tz=site.tz,
    )
